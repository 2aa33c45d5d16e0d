"""Bedrock Runtime (Converse, InvokeModel), OpenAI chat completions and Gemini
generateContent: deterministic answers derived from the prompt."""

import json
import math
import re
import time
import uuid

from .common import ApiError


def _text_of(content):
    """Text of a message content (string, or a list of blocks in any provider's shape)."""
    if isinstance(content, str):
        return content
    out = []
    if isinstance(content, list):
        for blk in content:
            if isinstance(blk, str):
                out.append(blk)
            elif isinstance(blk, dict) and isinstance(blk.get("text"), str):
                out.append(blk["text"])
    return "\n".join(out)


def test_reply(text):
    """The value of "weir_test_reply" in the first JSON object of text that has it."""
    dec = json.JSONDecoder()
    for m in re.finditer(r"\{", text):
        try:
            obj, _ = dec.raw_decode(text, m.start())
        except ValueError:
            continue
        if isinstance(obj, dict) and "weir_test_reply" in obj:
            v = obj["weir_test_reply"]
            return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
    return None


def llm_answer(prompt, want_json):
    r = test_reply(prompt)
    if r is not None:
        return r
    head = prompt[:80]
    return json.dumps({"echo": head}, separators=(",", ":")) if want_json else "echo: " + head


def tokens(s):
    return max(1, int(math.ceil(len(s) / 4.0)))


def clip(answer, max_tokens):
    """(text, truncated?) with the answer cut to max_tokens * 4 characters."""
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens > 0 and \
            tokens(answer) > max_tokens:
        return answer[:max_tokens * 4], True
    return answer, False


def bad_llm_input(service, message):
    if service == "bedrock":
        raise ApiError(400, "ValidationException", message)
    if service == "openai":
        raise ApiError(400, "invalid_request_error", message)
    raise ApiError(400, "INVALID_ARGUMENT", message)


def last_user_text(messages, user_roles=("user",)):
    for m in reversed(messages):
        if isinstance(m, dict) and m.get("role") in user_roles:
            return _text_of(m.get("content") if "content" in m else m.get("parts"))
    return ""


def check_messages(service, msgs, key, content_key, content_types):
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or not isinstance(m.get("role", "user"), str) or \
                not isinstance(m.get(content_key), content_types):
            bad_llm_input(service, "%s[%d] must be an object with a string role and %s" %
                          (key, i, content_key))


def bedrock_converse(model, body):
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        bad_llm_input("bedrock", "1 validation error detected: Value at 'messages' failed to "
                      "satisfy constraint: Member must not be null or empty")
    check_messages("bedrock", msgs, "messages", "content", list)
    prompt = last_user_text(msgs)
    system = _text_of(body.get("system") or [])
    tc = body.get("toolConfig") or {}
    choice = tc.get("toolChoice") or {}
    tools = [t.get("toolSpec", {}).get("name") for t in tc.get("tools") or []]
    forced = None
    if "tool" in choice:
        forced = choice["tool"].get("name")
        if forced not in tools:
            bad_llm_input("bedrock", "toolChoice names tool %r that is not in toolConfig.tools"
                          % forced)
    elif "any" in choice and tools:
        forced = tools[0]
    want_json = forced is not None or "outputConfig" in body
    answer = llm_answer(prompt, want_json)
    max_tokens = (body.get("inferenceConfig") or {}).get("maxTokens")
    t0 = time.time()
    if forced:
        try:
            inp = json.loads(answer)
        except ValueError:
            inp = {"text": answer}
        if not isinstance(inp, dict):
            inp = {"value": inp}
        content = [{"toolUse": {"toolUseId": "tooluse_" + uuid.uuid4().hex[:22], "name": forced,
                                "input": inp}}]
        stop, out_text = "tool_use", json.dumps(inp)
    else:
        out_text, cut = clip(answer, max_tokens)
        content = [{"text": out_text}]
        stop = "max_tokens" if cut else "end_turn"
    it, ot = tokens(system + _all_text(msgs)), tokens(out_text)
    return {"output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop,
            "usage": {"inputTokens": it, "outputTokens": ot, "totalTokens": it + ot},
            "metrics": {"latencyMs": max(1, int((time.time() - t0) * 1000))}}


def _all_text(msgs):
    return "".join(_text_of(m.get("content") if isinstance(m, dict) else "") for m in msgs)


def bedrock_invoke(model, body):
    if "anthropic_version" not in body and "messages" not in body:
        bad_llm_input("bedrock", "This test server implements InvokeModel for the Anthropic "
                      "Messages body (anthropic_version, messages, max_tokens)")
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        bad_llm_input("bedrock", "messages: at least one message is required")
    if not isinstance(body.get("max_tokens"), int):
        bad_llm_input("bedrock", "max_tokens: field required")
    check_messages("bedrock", msgs, "messages", "content", (list, str))
    prompt = last_user_text(msgs)
    system = body.get("system") or ""
    system = system if isinstance(system, str) else _text_of(system)
    choice = body.get("tool_choice") or {}
    forced = None
    if choice.get("type") == "tool":
        forced = choice.get("name")
    elif choice.get("type") == "any" and body.get("tools"):
        forced = body["tools"][0].get("name")
    want_json = forced is not None or "output_config" in body
    answer = llm_answer(prompt, want_json)
    if forced:
        try:
            inp = json.loads(answer)
        except ValueError:
            inp = {"text": answer}
        if not isinstance(inp, dict):
            inp = {"value": inp}
        content = [{"type": "tool_use", "id": "toolu_" + uuid.uuid4().hex[:24], "name": forced,
                    "input": inp}]
        stop, out_text = "tool_use", json.dumps(inp)
    else:
        out_text, cut = clip(answer, body["max_tokens"])
        content = [{"type": "text", "text": out_text}]
        stop = "max_tokens" if cut else "end_turn"
    return {"id": "msg_" + uuid.uuid4().hex[:24], "type": "message", "role": "assistant",
            "model": model, "content": content, "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": tokens(system + _all_text(msgs)),
                      "output_tokens": tokens(out_text)}}


def openai_chat(body):
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        bad_llm_input("openai", "'messages' is a required property and must not be empty")
    if not isinstance(body.get("model"), str):
        bad_llm_input("openai", "you must provide a model parameter")
    check_messages("openai", msgs, "messages", "content", (list, str, type(None)))
    rf = body.get("response_format") or {}
    want_json = rf.get("type") in ("json_object", "json_schema")
    answer = llm_answer(last_user_text(msgs), want_json)
    mt = body.get("max_completion_tokens", body.get("max_tokens"))
    text, cut = clip(answer, mt)
    pt, ct = tokens(_all_text(msgs)), tokens(text)
    return {"id": "chatcmpl-" + uuid.uuid4().hex[:24], "object": "chat.completion",
            "created": int(time.time()), "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text,
                                                 "refusal": None},
                         "logprobs": None, "finish_reason": "length" if cut else "stop"}],
            "usage": {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct}}


def gemini_generate(model, body):
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        bad_llm_input("gemini", "* GenerateContentRequest.contents: contents is not specified")
    check_messages("gemini", contents, "contents", "parts", list)
    gc = body.get("generationConfig") or {}
    want_json = gc.get("responseMimeType") == "application/json"
    prompt = ""
    for c in reversed(contents):
        if isinstance(c, dict) and c.get("role", "user") == "user":
            prompt = _text_of(c.get("parts"))
            break
    answer = llm_answer(prompt, want_json)
    text, cut = clip(answer, gc.get("maxOutputTokens"))
    alltext = "".join(_text_of(c.get("parts")) for c in contents if isinstance(c, dict))
    pt, ct = tokens(alltext), tokens(text)
    return {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
                            "finishReason": "MAX_TOKENS" if cut else "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": pt, "candidatesTokenCount": ct,
                              "totalTokenCount": pt + ct},
            "modelVersion": model, "responseId": uuid.uuid4().hex[:22]}
