"""Pure translation functions between KISS and the e-Suite: plain values in, plain values out.

No HTTP, no configuration look-ups, no clock reads (callers pass `now`).
"""
