"""Catalogue entries: Resource budgets: bounded validation, streamed scan bodies, bounded responses."""

from verisyntra.messages import Message

MESSAGES: dict[str, Message] = {
    "scan_tenant_mismatch": Message(
        "The body's tenant_id names another tenant than the query string's tenant_id: send one tenant.",
        "tenant_id trong nội dung yêu cầu khác với tenant_id trên chuỗi truy vấn: hãy chỉ định một tenant duy nhất.",
    ),
    "length_required": Message(
        "Send the body with a Content-Length header: this endpoint does not read chunked bodies.",
        "Hãy gửi nội dung kèm tiêu đề Content-Length: điểm cuối này không đọc nội dung truyền theo khối (chunked).",
    ),
}
