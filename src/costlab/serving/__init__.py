"""The serving layer: an OpenAI-compatible gateway that applies cache, route and budget per request.

Request path (gateway.py): compress → exact cache → semantic cache → route → budget reserve → upstream
(always streamed, so max_output_tokens and client disconnects are enforced the same way for every request)
→ ledger (async, off the hot path) → cache store. See docs/serving.md.
"""
