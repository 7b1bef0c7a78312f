"""When two email addresses reach the same mailbox, so nobody rates themselves in disguise."""

from __future__ import annotations

# Providers that deliver "first.last" and "firstlast" to one mailbox, and their other names.
DOT_BLIND_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def mailbox(address: str) -> str:
    """The address as its mailbox: case folded, a "+tag" dropped, and the dots dropped where
    the provider ignores them. Organisations' own domains keep their dots."""
    local, _, domain = address.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    domain = DOT_BLIND_DOMAINS.get(domain, domain)
    if domain in DOT_BLIND_DOMAINS.values():
        local = local.replace(".", "")
    return f"{local}@{domain}"


def same_mailbox(first: str, second: str) -> bool:
    return mailbox(first) == mailbox(second)
