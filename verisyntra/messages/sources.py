"""Catalogue entries: Data sources and discovery scans: registration, guarded connections, classification, schedules."""

from verisyntra.messages import Message

MESSAGES: dict[str, Message] = {
    # The engines a data source may be.
    "source_kind.postgresql": Message("PostgreSQL", "Cơ sở dữ liệu PostgreSQL"),
    "source_kind.mysql": Message("MySQL / MariaDB", "Cơ sở dữ liệu MySQL / MariaDB"),
    # API errors. `invalid_data_source` names the field and says why (a `source.reason.*` sentence,
    # or the batch's own item sentences for the mistakes both share).
    "invalid_data_source": Message(
        'The data source is invalid: "{field}": {reason}.',
        'Nguồn dữ liệu không hợp lệ: "{field}": {reason}.',
    ),
    "data_source_not_found": Message("No such data source for this tenant.", "Không tìm thấy nguồn dữ liệu này của tổ chức."),
    "source.reason.dsn_format": Message(
        "it must be a URL such as postgresql://user:password@host:5432/database or mysql://user:password@host:3306/database",
        "phải là một URL, ví dụ postgresql://user:password@host:5432/database hoặc mysql://user:password@host:3306/database",
    ),
    "source.reason.dsn_kind": Message(
        'its scheme "{scheme}" does not match the kind "{kind}"',
        'lược đồ "{scheme}" không khớp với loại "{kind}"',
    ),
    "source.reason.dsn_parameter": Message(
        'the connection parameter "{parameter}" is not accepted',
        'tham số kết nối "{parameter}" không được chấp nhận',
    ),
    "source.reason.host_not_allowed": Message(
        'the host "{host}" is not in DATA_SOURCE_ALLOWED_HOSTS',
        'máy chủ "{host}" không nằm trong danh sách DATA_SOURCE_ALLOWED_HOSTS được phép',
    ),
    "source.reason.host_unresolvable": Message(
        'the host name "{host}" cannot be resolved',
        'không phân giải được tên máy chủ "{host}"',
    ),
    "source.reason.own_database": Message(
        "it is one of this service's own databases or its message broker, which are never scanned",
        "đây là cơ sở dữ liệu hoặc máy chủ hàng đợi của chính dịch vụ này, không bao giờ được quét",
    ),
    "source.reason.schedule": Message(
        'it must be a cron expression of five fields (minute hour day month weekday), such as "0 2 * * *", or empty',
        'phải là biểu thức cron gồm năm trường (phút giờ ngày tháng thứ), ví dụ "0 2 * * *", hoặc để trống',
    ),
    "source.reason.name_taken": Message(
        "the tenant already has a data source with this name",
        "tổ chức đã có một nguồn dữ liệu với tên này",
    ),
    # Why a discovery scan could not reach its source (no retry: the next scheduled run tries again).
    "source.unreachable": Message(
        'Data source "{name}" ({host}:{port}) could not be reached: {cause}. Nothing was changed.',
        'Không kết nối được nguồn dữ liệu "{name}" ({host}:{port}): {cause}. Không có gì bị thay đổi.',
    ),
    "source.cause.refused": Message("the server refused the connection", "máy chủ từ chối kết nối"),
    "source.cause.timeout": Message(
        "no answer within {seconds:num} {seconds:plural:second:seconds}",
        "không có phản hồi trong {seconds:num} giây",
    ),
    "source.cause.authentication": Message("the user name or password was refused", "tên đăng nhập hoặc mật khẩu bị từ chối"),
    "source.cause.database_missing": Message("the database does not exist", "cơ sở dữ liệu không tồn tại"),
    "source.cause.host_unresolvable": Message("the host name cannot be resolved", "không phân giải được tên máy chủ"),
    "source.cause.other": Message("the connection failed ({error_class})", "kết nối thất bại ({error_class})"),
    "source.refused": Message(
        'Data source "{name}" was not scanned: {reason}.',
        'Nguồn dữ liệu "{name}" không được quét: {reason}.',
    ),
    "source.discovery_failed": Message(
        'Reading data source "{name}" failed ({error_class}); nothing was changed.',
        'Đọc nguồn dữ liệu "{name}" thất bại ({error_class}); không có gì bị thay đổi.',
    ),
    # A discovery scan's outcome, as the source's last result.
    "source.result": Message(
        "{tables:num} {tables:plural:table:tables} read: {added:num} {added:plural:activity:activities} added, "
        "{updated:num} updated, {unchanged:num} unchanged, {missing:num} marked missing.",
        "Đã đọc {tables:num} bảng: thêm {added:num} hoạt động xử lý dữ liệu cá nhân, cập nhật {updated:num}, "
        "không đổi {unchanged:num}, đánh dấu không còn {missing:num}.",
    ),
    # What a re-scan changed for one activity (API `changes`, admin).
    "source.change.added": Message("new table with personal data", "bảng mới có dữ liệu cá nhân"),
    "source.change.updated": Message("findings changed", "kết quả phát hiện đã thay đổi"),
    "source.change.unchanged": Message("no change", "không thay đổi"),
    "source.change.missing": Message(
        "table gone or no longer holding personal data (kept, marked missing)",
        "bảng không còn hoặc không còn chứa dữ liệu cá nhân (vẫn giữ, đánh dấu không còn)",
    ),
    "source.change.returned": Message("table back after being missing", "bảng xuất hiện trở lại"),
    # The admin's data-source pages.
    "admin.column.schedule": Message("schedule", "lịch quét"),
    "admin.column.last_run": Message("last run", "lần quét gần nhất"),
    "admin.column.next_run": Message("next run", "lần quét tiếp theo"),
    "admin.column.last_result": Message("last result", "kết quả gần nhất"),
    "admin.column.findings": Message("findings: column, type, why, confidence", "phát hiện: cột, loại, lý do, độ tin cậy"),
    "admin.column.changes": Message("changes at the last scan", "thay đổi ở lần quét gần nhất"),
    "admin.column.dsn": Message("connection (password hidden)", "kết nối (đã ẩn mật khẩu)"),
    "admin.field.dsn_help": Message(
        "A URL such as postgresql://user:password@host:5432/database. Stored encrypted; leave empty to keep the current one.",
        "Một URL, ví dụ postgresql://user:password@host:5432/database. Được lưu mã hóa; để trống để giữ nguyên.",
    ),
    "admin.action.scan_now": Message("Scan now", "Quét ngay"),
    "admin.notice.source_scan_started": Message(
        'Discovery scan of "{name}" started ({scan_id}).',
        'Đã bắt đầu quét nguồn dữ liệu "{name}" ({scan_id}).',
    ),
    "admin.notice.source_never_scanned": Message("never scanned", "chưa quét lần nào"),
}
