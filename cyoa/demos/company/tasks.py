"""Background jobs, run by an RQ worker (``rq worker``), never inside a web request."""

from __future__ import annotations

import os
import smtplib
import time
from email.message import EmailMessage

import redis


def crawl(pages: int = 4, seconds_per_page: float = 0.4) -> dict:
    """Fetch partner pages: each sleep stands for a slow call to a website we don't control."""
    found = []
    for page in range(1, pages + 1):
        time.sleep(seconds_per_page)
        found.append(f"https://partner.example/listings?page={page}")
    return {"pages": pages, "links": found, "pid": os.getpid()}


def send_invitation(email: str, host: str, port: int, product: str, link: str) -> str:
    """Send one invitation email, with its signed link, through the SMTP server at host:port."""
    message = EmailMessage()
    message["From"] = f"hello@{product.lower().replace(' ', '-')}.example"
    message["To"] = email
    message["Subject"] = f"You're invited to {product}"
    message.set_content(
        f"Hi!\n\nA friend invited you to {product}. Join here (the link works for a week):\n"
        f"{link}\n"
    )
    with smtplib.SMTP(host, port, timeout=5) as smtp:
        smtp.send_message(message)
    return email


def refresh_likes(redis_url: str) -> str:
    """The nightly job: here it only records when it ran, which the demo reads back."""
    stamp = time.strftime("%H:%M:%S")
    redis.Redis.from_url(redis_url).set("likes:refreshed-at", stamp)
    return stamp
