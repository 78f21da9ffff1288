"""The request model: OpenAI chat-completions shape (pydantic) + the limits checked before it.

``read_body`` enforces ``limits.max_body_bytes`` while reading (413); ``parse_request`` rejects what JSON allows
but the API does not (NaN/Infinity, lone surrogates, nesting deeper than ``limits.max_depth``), then validates
the shape. Every failure is a 400 in OpenAI's error shape whose ``param`` names the field
(``messages[0].content``); the connection stays open. Known fields are typed; any other top-level field is an
"unknown parameter", kept verbatim for forwarding (``request.forward_unknown``).
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from costlab.serving.errors import GatewayError, bad_request

DRAIN_LIMIT = 16 << 20  # an over-size body is read (not kept) up to this, so the 413 reaches the client


def _f(lo: float, hi: float) -> Any:
    return Annotated[float, Field(strict=True, ge=lo, le=hi, allow_inf_nan=False)]


PosInt = Annotated[int, Field(strict=True, ge=1)]
Str = Annotated[str, Field(strict=True)]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class TextPart(_Open):
    type: Literal["text"]
    text: Str


class ImageURL(_Open):
    url: Str
    detail: Optional[Literal["auto", "low", "high"]] = None


class ImagePart(_Open):
    type: Literal["image_url"]
    image_url: ImageURL


class AudioPart(_Open):
    type: Literal["input_audio"]
    input_audio: dict


class FilePart(_Open):
    type: Literal["file"]
    file: dict


class RefusalPart(_Open):
    type: Literal["refusal"]
    refusal: Str


Part = Annotated[Union[TextPart, ImagePart, AudioPart, FilePart, RefusalPart], Field(discriminator="type")]


class FunctionCall(_Open):
    name: Str
    arguments: Str


class ToolCall(_Open):
    id: Str
    type: Literal["function"]
    function: FunctionCall


class Message(_Open):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    name: Optional[Str] = None
    tool_calls: Optional[list[ToolCall]] = None
    tool_call_id: Optional[Str] = None
    content: Union[Str, list[Part], None] = Field(None, validate_default=True)  # last: its check reads the others

    @field_validator("content")
    @classmethod
    def _content(cls, v: Any, info: ValidationInfo) -> Any:
        d = info.data
        if v is None and not (d.get("role") == "assistant" and d.get("tool_calls")):
            raise ValueError(
                "content must be a string or a list of content parts (null only for an assistant "
                "message with tool_calls)"
            )
        return v

    @model_validator(mode="after")
    def _tool(self) -> Message:
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a tool message needs tool_call_id")
        return self


class FunctionDef(_Open):
    name: Str
    description: Optional[Str] = None
    parameters: Optional[dict] = None
    strict: Optional[bool] = None


class Tool(_Open):
    type: Literal["function"]
    function: FunctionDef


class StreamOptions(_Open):
    include_usage: Optional[bool] = Field(None, strict=True)


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: Annotated[str, Field(strict=True, min_length=1)]
    messages: Annotated[list[Message], Field(min_length=1)]
    temperature: Optional[_f(0, 2)] = None
    top_p: Optional[_f(0, 1)] = None
    n: Optional[Literal[1]] = None
    stream: Optional[Annotated[bool, Field(strict=True)]] = None
    stream_options: Optional[StreamOptions] = None
    max_tokens: Optional[PosInt] = None
    max_completion_tokens: Optional[PosInt] = None
    stop: Union[Str, Annotated[list[Str], Field(max_length=4)], None] = None
    seed: Optional[Annotated[int, Field(strict=True)]] = None
    presence_penalty: Optional[_f(-2, 2)] = None
    frequency_penalty: Optional[_f(-2, 2)] = None
    logit_bias: Optional[dict[str, _f(-100, 100)]] = None
    logprobs: Optional[Annotated[bool, Field(strict=True)]] = None
    top_logprobs: Optional[Annotated[int, Field(strict=True, ge=0, le=20)]] = None
    response_format: Optional[dict] = None
    tools: Optional[list[Tool]] = None
    tool_choice: Union[Literal["none", "auto", "required"], dict, None] = None
    parallel_tool_calls: Optional[Annotated[bool, Field(strict=True)]] = None
    user: Optional[Str] = None
    metadata: Optional[dict] = None
    costlab: Optional[dict] = None  # gateway-only options ({"priority": ...}); never forwarded


KNOWN = frozenset(ChatRequest.model_fields)
_TYPE_TOKENS = {
    "str",
    "int",
    "float",
    "bool",
    "dict",
    "list",
    "none",
    "function-after",
    "function-before",
    "function-wrap",
    "literal",
    "constrained-float",
    "constrained-int",
}


async def read_body(request: Any, max_bytes: int) -> bytes:
    """The body, or a 413 once it passes ``max_bytes`` (the rest is drained, not kept, up to DRAIN_LIMIT)."""
    too_big = GatewayError(
        413,
        f"The request body is larger than the gateway's limit of {max_bytes} bytes "
        "(serve.limits.max_body_bytes). Send fewer or smaller messages or parts.",
        "invalid_request_error",
        "request_too_large",
    )
    cl = request.headers.get("content-length")
    if cl is not None and cl.isdigit() and int(cl) > DRAIN_LIMIT:
        raise too_big
    chunks, n = [], 0
    async for chunk in request.stream():
        n += len(chunk)
        if n > max_bytes:
            if n > DRAIN_LIMIT:
                raise too_big
            continue
        chunks.append(chunk)
    if n > max_bytes:
        raise too_big
    return b"".join(chunks)


def _path(loc: tuple) -> str:
    out = ""
    for p in loc:
        if isinstance(p, int):
            out += f"[{p}]"
            continue
        p = str(p)
        if "[" in p or p in _TYPE_TOKENS or p.startswith(("function-", "constrained-", "literal")):
            continue
        if out.endswith("." + p) or out == p:
            continue  # a tagged-union tag equal to the field name ("text" part -> .text)
        out += ("." if out else "") + p
    return out


def _walk(obj: Any, max_depth: int) -> None:
    """Reject non-finite numbers, lone surrogates and over-deep nesting, naming the field."""
    stack: list[tuple[Any, tuple, int]] = [(obj, (), 0)]
    while stack:
        o, loc, d = stack.pop()
        if d > max_depth:
            raise bad_request(
                f"The request nests deeper than {max_depth} levels at '{_path(loc)}' (serve.limits.max_depth).",
                _path(loc) or None,
                "too_deep",
            )
        if isinstance(o, dict):
            for k, v in o.items():
                if isinstance(v, (dict, list, str, float)):
                    stack.append((v, loc + (k,), d + 1))
        elif isinstance(o, list):
            for i, v in enumerate(o):
                if isinstance(v, (dict, list, str, float)):
                    stack.append((v, loc + (i,), d + 1))
        elif isinstance(o, str):
            if not o.isascii():
                try:
                    o.encode("utf-8")
                except UnicodeEncodeError:
                    p = _path(loc)
                    raise bad_request(
                        f"'{p}' contains a lone surrogate (invalid UTF-16 escape); send valid Unicode.",
                        p,
                        "invalid_string",
                    ) from None
        elif isinstance(o, float) and not math.isfinite(o):
            p = _path(loc)
            raise bad_request(f"'{p}' is {o}: JSON numbers must be finite.", p, "invalid_number")


def parse_request(raw: bytes, max_depth: int, max_messages: int) -> tuple[dict, ChatRequest]:
    """(the body as sent, its validated model). GatewayError 400 naming the field otherwise."""
    try:
        body = json.loads(raw)
    except RecursionError:
        raise bad_request(
            f"The request nests deeper than {max_depth} levels (serve.limits.max_depth).", None, "too_deep"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise bad_request(f"We could not parse the JSON body of your request ({e}).", code="invalid_json") from None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.", code="invalid_json")
    msgs = body.get("messages")
    if isinstance(msgs, list) and len(msgs) > max_messages:
        raise bad_request(
            f"'messages' has {len(msgs)} entries; the gateway accepts at most {max_messages} "
            "(serve.limits.max_messages).",
            "messages",
            "too_many_messages",
        )
    _walk(body, max_depth)
    try:
        req = ChatRequest.model_validate(body)
    except ValidationError as e:
        err = max(e.errors(include_url=False), key=lambda x: len(x["loc"]))  # the most specific
        p = _path(tuple(err["loc"]))
        raise bad_request(f"Invalid value for '{p}': {err['msg']}.", p or None) from None
    return body, req
