"""A user agent in words ("Firefox 128 on Linux"), via ua-parser."""

from functools import lru_cache

from ua_parser import parse


@lru_cache(maxsize=1024)
def describe_device(user_agent):
    """Browser and system of a user agent; None when there is none."""
    if not user_agent:
        return None
    result = parse(user_agent)
    browser, system = result.user_agent, result.os
    name = browser.family if browser and browser.family != "Other" else None
    if name and browser.major:
        name = f"{name} {browser.major}"
    if system and system.family != "Other":
        return f"{name} on {system.family}" if name else system.family
    return name or "Unknown device"
