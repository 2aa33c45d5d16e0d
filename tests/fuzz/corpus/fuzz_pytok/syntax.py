def f(a, *b, **c):
    if a: return f"{a!r:>10}" + r"\x" \
        + b"""
"""
	x = [i for i in (1, 2)]
