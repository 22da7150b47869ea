"""The API edge shared by every endpoint: declarations, the tenant parameter, paging, errors.

- `query`: query parameters declared as a pydantic model per endpoint; `parse_query` validates
  the query string with it, drf-spectacular documents it (`parameters=[Model]`). `TenantQuery`
  declares `tenant_id`; `parse_tenant_id` parses it wherever it arrives (query or body).
- `pagination`: `KeysetPaginator`, the one paginator of every list (`skip`/`limit` or a signed
  cursor), `PageQuery` and `PageEnvelope`, the one page shape.
- `responses`: `respond(model)`, a response rendered through the model the schema documents.
- `errors`: `ApiError(code, status_code=..., **detail)`, the error bodies (pydantic models), the
  DRF exception handler, the JSON handlers for non-DRF views, `DatabaseUnavailableMiddleware`.
- `openapi`: OpenAPI 3.0 from pydantic models, and the standard error responses.

Error codes: one code per mistake, the same on every endpoint; the sentences are in
`verisyntra/messages/api.py` under the same code.

- A query parameter the declaration refuses: `invalid_parameter`, with `parameter` naming it
  (both `tenant_id` mistakes keep their own codes: `tenant_id_required`, `invalid_tenant_id`).
- A cursor that is not one this list issued: `invalid_cursor`.
- A body that is not JSON: `malformed_json`; JSON that is not the declared object (not an
  object, `activities` missing or not a list): `invalid_body`; an empty or too long
  `activities` list: `empty_batch`, `batch_too_large`; items that are not valid activities:
  `invalid_activities` (with every bad item in `errors`).
- DRF's own exceptions keep DRF's meaning (`not_authenticated`, `not_found`, ...); a
  `ValidationError` a serializer raises is `invalid_input`.
"""
