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
    # Times are shown in UTC, labelled, as the API gives them.
    "admin.column.created": Message("created (UTC)", "tạo lúc (UTC)"),
    "admin.column.started": Message("started (UTC)", "bắt đầu lúc (UTC)"),
    "admin.column.updated": Message("updated (UTC)", "cập nhật lúc (UTC)"),
    "admin.column.completed": Message("finished (UTC)", "kết thúc lúc (UTC)"),
    "admin.column.dispatched": Message("queued (UTC)", "đưa vào hàng đợi lúc (UTC)"),
    # A tenant's page links to its records.
    "admin.column.records": Message("activities, scans, members", "hoạt động, lần quét, thành viên"),
    "admin.link.activities": Message(
        "{count:num} processing {count:plural:activity:activities}",
        "{count:num} hoạt động xử lý dữ liệu cá nhân",
    ),
    "admin.link.scans": Message("{count:num} data {count:plural:scan:scans}", "{count:num} lần quét dữ liệu"),
    "admin.link.members": Message("{count:num} {count:plural:member:members}", "{count:num} thành viên"),
    # The buttons on a scan's page and what they report.
    "admin.button.retry": Message("Retry this scan", "Chạy lại lần quét này"),
    "admin.button.cancel": Message("Cancel this scan", "Hủy lần quét này"),
    "admin.notice.scan_retried": Message(
        "The scan is queued again; it resumes at its first unwritten record.",
        "Lần quét đã được đưa lại vào hàng đợi; lần quét sẽ tiếp tục từ bản ghi đầu tiên chưa được ghi.",
    ),
    "admin.notice.scan_not_failed": Message(
        "Only a failed scan can be retried; this one is {status}.",
        "Chỉ có thể chạy lại lần quét thất bại; lần quét này đang ở trạng thái {status}.",
    ),
    "admin.notice.scan_cancelled": Message(
        "The scan is cancelled; the records written before the cancel stay.",
        "Lần quét đã bị hủy; các bản ghi đã được ghi trước khi hủy vẫn được giữ lại.",
    ),
    # The pool dashboard (health/dashboard.py, health/admin.py).
    "admin.pools.title": Message("Connection pools", "Nhóm kết nối"),
    "admin.pools.section": Message("Operations", "Vận hành"),
    "admin.pools.intro": Message(
        "The database connection pools, live: refreshed every {seconds:num} seconds.",
        "Các nhóm kết nối cơ sở dữ liệu, số liệu trực tiếp: cập nhật mỗi {seconds:num} giây.",
    ),
    "admin.pools.verdict": Message("Verdict", "Đánh giá"),
    "admin.pools.verdict_rules": Message(
        "The verdict, each pool's status and the findings are those of /health/connection-pools and pool_report"
        " (one set of rules); the sizing advice is advice and does not change the verdict.",
        "Đánh giá chung, trạng thái của từng nhóm kết nối và các phát hiện là của /health/connection-pools và pool_report"
        " (cùng một bộ quy tắc); khuyến nghị định cỡ chỉ là khuyến nghị, không làm thay đổi đánh giá.",
    ),
    "admin.pools.scope": Message(
        "Pool figures are those of the web process that answered (pid {pid}): each process has its own pools."
        " The server's view and the metrics cover every process.",
        "Số liệu nhóm kết nối là của tiến trình web đã trả lời (pid {pid}): mỗi tiến trình có các nhóm kết nối riêng."
        " Góc nhìn của máy chủ và số liệu đo bao gồm mọi tiến trình.",
    ),
    "admin.pools.pool": Message("Pool {alias}", "Nhóm kết nối {alias}"),
    "admin.pools.row.recommendation": Message("advice", "khuyến nghị"),
    "admin.pools.row.process": Message("this process", "tiến trình này"),
    "admin.pools.row.server": Message("server connections (all processes)", "kết nối trên máy chủ (mọi tiến trình)"),
    "admin.pools.row.server_states": Message("by state", "theo trạng thái"),
    "admin.pools.row.server_usage": Message("server usage", "mức sử dụng máy chủ"),
    "admin.pools.row.in_use": Message("in use (all processes)", "đang sử dụng (mọi tiến trình)"),
    "admin.pools.row.open": Message("open (all processes)", "đang mở (mọi tiến trình)"),
    "admin.pools.row.checkouts": Message("checkouts", "số lần lấy kết nối"),
    "admin.pools.row.exhausted": Message("exhausted (answered 503)", "hết kết nối (đã trả lời 503)"),
    "admin.pools.row.wait_p50": Message("checkout wait p50", "thời gian chờ lấy kết nối p50"),
    "admin.pools.row.wait_p95": Message("checkout wait p95", "thời gian chờ lấy kết nối p95"),
    "admin.pools.row.wait_p99": Message("checkout wait p99", "thời gian chờ lấy kết nối p99"),
    "admin.pools.row.replica": Message("replica", "bản sao chỉ đọc"),
    "admin.pools.chart.in_use": Message("in use", "đang sử dụng"),
    "admin.pools.chart.checkouts": Message("checkouts per second", "số lần lấy kết nối mỗi giây"),
    "admin.pools.process_figures": Message(
        "{checked_out:num} checked out, {checked_in:num} idle in the pool; capacity {size:num} + {overflow:num}; {percent:num.1}% used",
        "{checked_out:num} đang dùng, {checked_in:num} nhàn rỗi trong nhóm; sức chứa {size:num} + {overflow:num}; đã dùng {percent:num.1}%",
    ),
    "admin.pools.server_total": Message("{total:num} open", "{total:num} đang mở"),
    "admin.pools.server_usage": Message(
        "{used:num} of {available:num} usable connections ({percent:num.1}%)",
        "{used:num} trên {available:num} kết nối khả dụng ({percent:num.1}%)",
    ),
    "admin.pools.milliseconds": Message("{ms:num.2} ms", "{ms:num.2} mili giây"),
    "admin.pools.no_checkouts": Message("no checkout yet", "chưa có lần lấy kết nối nào"),
    "admin.pools.leaks": Message("Leak suspects (idle in a transaction)", "Kết nối nghi bị rò rỉ (nhàn rỗi trong giao dịch)"),
    "admin.pools.leak_line": Message(
        "pid {pid} ({app}): idle in transaction for {seconds:num.1} s; last query: {query}",
        "pid {pid} ({app}): nhàn rỗi trong giao dịch {seconds:num.1} giây; truy vấn cuối: {query}",
    ),
    "admin.pools.advice": Message("Sizing advice", "Khuyến nghị định cỡ"),
    "admin.pools.updated": Message("Last refresh", "Lần cập nhật gần nhất"),
    "admin.pools.json": Message("These figures as JSON", "Các số liệu này dạng JSON"),
}
