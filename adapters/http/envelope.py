"""The optional success envelope (API §4): `{"success": true, "data": ..., "message": "Success"}`."""

from __future__ import annotations

import msgspec

from adapters.http.asgi import App as ASGIApp
from adapters.http.asgi import Message, Receive, Scope, Send

EXCLUDED = ("/schema", "/metrics", "/api/v1/health", "/api/v1/ready", "/api/v1/auth/token")


def excluded(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in EXCLUDED)


class EnvelopeMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "HEAD" or excluded(scope["path"]):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def send_wrapper(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                raw_headers: dict[bytes, bytes] = dict(message.get("headers", []))
                ctype = raw_headers.get(b"content-type", b"").split(b";")[0].strip()
                status = message["status"]
                if 200 <= status < 300 and status != 204 and ctype == b"application/json":
                    start = message
                    return
                await send(message)
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            try:
                data = msgspec.json.decode(body)
            except msgspec.DecodeError:
                wrapped = body
            else:
                already = isinstance(data, dict) and {"success", "data", "message"} <= data.keys()
                # Splice the original bytes in, so `data` is exactly the unwrapped body.
                wrapped = body if already else b'{"success":true,"data":' + body + b',"message":"Success"}'
            headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
            headers.append((b"content-length", str(len(wrapped)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": wrapped})

        await self.app(scope, receive, send_wrapper)
