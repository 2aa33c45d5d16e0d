# weir_add_plugin(<name> SOURCES <src>... [LIBRARIES <lib>...])
#
# Builds <name>.so, a MODULE library with hidden visibility linked only to
# weir::sdk (plus LIBRARIES), so it exports nothing but its entry
# weir_plugin_<name>_init. Inside the weir tree it lands next to the other
# plugins and installs with them; out of tree it is built in the current
# binary dir and installed to WEIR_PLUGIN_INSTALL_DIR, by default the plugin
# dir of the weir it was found with (see weirConfig.cmake).
function(weir_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "weir_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  set_target_properties(${name} PROPERTIES PREFIX "" OUTPUT_NAME "${name}"
    C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_link_libraries(${name} PRIVATE weir::sdk ${ARG_LIBRARIES})
  # weir refuses group- or world-writable plugins; a umask of 002 would
  # otherwise make every freshly built plugin unloadable.
  add_custom_command(TARGET ${name} POST_BUILD COMMAND chmod go-w $<TARGET_FILE:${name}>)
  if(DEFINED WEIR_PLUGIN_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${WEIR_PLUGIN_OUTPUT_DIR}")
  endif()
  if(DEFINED WEIR_PLUGIN_INSTALL_DIR)
    install(TARGETS ${name} LIBRARY DESTINATION "${WEIR_PLUGIN_INSTALL_DIR}")
  endif()
endfunction()
