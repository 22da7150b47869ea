"""Catalogue entries: The Django admin: actions, columns and notices."""

from verisyntra.messages import Message

MESSAGES: dict[str, Message] = {
    # Column headings of the inventory's list and detail pages (shown "English / Vietnamese").
    "admin.column.members": Message("members", "thành viên"),
    "admin.column.pdpl_category": Message("PDPL category", "loại dữ liệu cá nhân"),
    "admin.column.status": Message("status", "trạng thái"),
    "admin.column.progress": Message("progress", "tiến độ"),
    "admin.column.processed_of_total": Message("processed / total", "đã xử lý / tổng số"),
    "admin.column.duration": Message("duration", "thời lượng"),
    "admin.column.error": Message("error", "lỗi"),
    # The data scans' one action and what it reports.
    "admin.action.retry_failed_scans": Message("Retry the selected failed scans", "Chạy lại các lần quét thất bại đã chọn"),
    "admin.notice.scans_queued": Message(
        "{count:num} {count:plural:scan:scans} queued again.",
        "{count:num} lần quét đã được đưa lại vào hàng đợi.",
    ),
    "admin.notice.scans_not_failed": Message(
        "{count:num} {count:plural:scan has:scans have} not failed and {count:plural:was:were} left alone.",
        "{count:num} lần quét chưa thất bại nên được giữ nguyên.",
    ),
}
