"""OpenAI-style error bodies: {"error": {"message", "type", "param", "code"}} with the matching HTTP status."""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def bad_request(msg: str, param: str | None = None, code: str | None = "invalid_request") -> GatewayError:
    return GatewayError(400, msg, "invalid_request_error", code, param)


def unauthorized(msg: str = "Invalid or missing API key. Send 'Authorization: Bearer <key>'.") -> GatewayError:
    return GatewayError(401, msg, "invalid_request_error", "invalid_api_key")


def model_not_found(model: str, known: list[str]) -> GatewayError:
    return GatewayError(
        404,
        f"The model '{model}' does not exist. Known: {', '.join(known)}",
        "invalid_request_error",
        "model_not_found",
        "model",
    )


def budget_exhausted(msg: str) -> GatewayError:
    return GatewayError(429, msg, "insufficient_quota", "budget_exhausted")


def upstream_error(msg: str, status: int = 502) -> GatewayError:
    return GatewayError(status, msg, "upstream_error", "upstream_timeout" if status == 504 else "upstream_error")
