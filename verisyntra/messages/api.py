"""Catalogue entries: API errors: request and input, tenancy and authentication, pagination, database and pools.

Keys are the `code` of the error body (`verisyntra.api.errors`), one code per mistake on every
endpoint (the rule is in `verisyntra/api/__init__.py`); keys with a dot (`retry.advice`,
`batch.created`) are sentences inside a body rather than error codes.
"""

from verisyntra.messages import Message

MESSAGES: dict[str, Message] = {
    # --- Authentication and permission (DRF's own exceptions) ---------------------------------
    "not_authenticated": Message(
        "Authentication credentials were not provided. Send 'Authorization: Token <key>'.",
        "Chưa cung cấp thông tin xác thực. Hãy gửi 'Authorization: Token <khóa>'.",
    ),
    "authentication_failed": Message("Invalid or expired token.", "Mã thông báo không hợp lệ hoặc đã hết hạn."),
    "permission_denied": Message("You do not have permission to perform this action.", "Không có quyền truy cập."),
    "not_found": Message("Not found.", "Không tìm thấy."),
    "method_not_allowed": Message("Method not allowed.", "Phương thức không được phép."),
    "not_acceptable": Message(
        "The requested response format is not available.",
        "Không hỗ trợ định dạng phản hồi được yêu cầu.",
    ),
    "unsupported_media_type": Message(
        "Unsupported content type. Send 'Content-Type: application/json'.",
        "Kiểu nội dung không được hỗ trợ. Hãy gửi 'Content-Type: application/json'.",
    ),
    "throttled": Message("Too many requests.", "Quá nhiều yêu cầu."),
    "bad_request": Message("Bad request.", "Yêu cầu không hợp lệ."),
    "internal_error": Message("Internal server error.", "Lỗi máy chủ nội bộ."),
    # --- Tenancy -------------------------------------------------------------------------------
    "tenant_id_required": Message("The tenant_id parameter is required.", "Thiếu tham số tenant_id."),
    "invalid_tenant_id": Message("tenant_id must be a UUID.", "tenant_id phải là một UUID hợp lệ."),
    "tenant_access_denied": Message(
        "You are not a member of this tenant.",
        "Không có quyền truy cập: bạn không phải thành viên của tổ chức này.",
    ),
    # --- Query parameters and pagination -------------------------------------------------------
    "invalid_parameter": Message(
        "Invalid value for the query parameter {parameter}: {reason}.",
        "Giá trị của tham số truy vấn {parameter} không hợp lệ: {reason}.",
    ),
    # The `reason` of invalid_parameter, from the parameter's declaration.
    "parameter.range": Message(
        "it must be a whole number from {minimum:num} to {maximum:num}",
        "phải là số nguyên từ {minimum:num} đến {maximum:num}",
    ),
    "parameter.choices": Message("it must be one of {choices}", "phải là một trong các giá trị {choices}"),
    "parameter.cursor_with_skip": Message(
        "use either cursor or skip, not both",
        "chỉ dùng một trong hai tham số cursor hoặc skip",
    ),
    "parameter.invalid": Message(
        "see the API schema (/api/schema/) for the values it takes",
        "xem lược đồ API (/api/schema/) để biết các giá trị được phép",
    ),
    "invalid_cursor": Message(
        "Invalid cursor: pass the next_cursor of a previous page of this list unchanged.",
        "Cursor không hợp lệ: hãy truyền nguyên giá trị next_cursor của một trang trước của danh sách này.",
    ),
    # --- Request bodies ------------------------------------------------------------------------
    "malformed_json": Message(
        "Malformed request body: it is not valid JSON.",
        "Nội dung yêu cầu không hợp lệ: không phải JSON hợp lệ.",
    ),
    "invalid_input": Message("Invalid input.", "Dữ liệu đầu vào không hợp lệ."),
    "invalid_body": Message(
        "The body must be a JSON object like {example}.",
        "Nội dung yêu cầu phải là một đối tượng JSON dạng {example}.",
    ),
    "empty_batch": Message(
        "The activities list is empty: send {min_items:num} to {max_items:num} processing activities.",
        "Danh sách activities rỗng: hãy gửi từ {min_items:num} đến {max_items:num} hoạt động xử lý dữ liệu cá nhân.",
    ),
    "batch_too_large": Message(
        "Too many activities: {count:num}; this endpoint takes at most {max_items:num} (POST /data-scans takes more).",
        "Quá nhiều hoạt động: {count:num}; điểm cuối này nhận tối đa {max_items:num} (POST /data-scans nhận nhiều hơn).",
    ),
    "request_too_large": Message(
        "Request body too large: the limit is {max_bytes:num} bytes ({max_mb:num} MB).",
        "Nội dung yêu cầu quá lớn: giới hạn là {max_bytes:num} byte ({max_mb:num} MB).",
    ),
    # --- Batch and data-scan answers -----------------------------------------------------------
    "batch.success": Message("Success", "Thành công"),
    "batch.created": Message(
        "Created {created:num} {created:plural:record:records} in {seconds:num.3}s",
        "Đã tạo {created:num} bản ghi trong {seconds:num.3} giây",
    ),
    "batch.created_with_rejections": Message(
        "Created {created:num} {created:plural:record:records} in {seconds:num.3}s; {rejected:num} rejected",
        "Đã tạo {created:num} bản ghi trong {seconds:num.3} giây; {rejected:num} bản ghi bị từ chối",
    ),
    "data_scan_not_found": Message(
        "No such data scan for this tenant.",
        "Không tìm thấy lần quét dữ liệu này của tổ chức.",
    ),
    "data_scan_finished": Message(
        "This data scan has already finished ({status}); only a pending or processing scan can be cancelled.",
        "Lần quét dữ liệu này đã kết thúc (trạng thái {status}); chỉ có thể hủy lần quét đang chờ xử lý hoặc đang xử lý.",
    ),
    # --- Database and pools --------------------------------------------------------------------
    "pool_exhausted": Message(
        "Connection pool exhausted - all connections in use",
        "Hết kết nối – tất cả kết nối đang được sử dụng",
    ),
    "retry.advice": Message(
        "Retry in {seconds} seconds or contact administrator",
        "Thử lại sau {seconds} giây hoặc liên hệ quản trị viên",
    ),
    "database_unavailable": Message(
        "The database is temporarily unavailable.",
        "Cơ sở dữ liệu tạm thời không khả dụng.",
    ),
    "query_timeout": Message(
        "The database query took too long and was cancelled.",
        "Truy vấn cơ sở dữ liệu vượt quá thời gian cho phép và đã bị hủy.",
    ),
    "query_timeout.advice": Message(
        "Narrow the request (a smaller page or fewer records) or retry later",
        "Hãy thu hẹp yêu cầu (trang nhỏ hơn hoặc ít bản ghi hơn) hoặc thử lại sau",
    ),
    "database_unhealthy": Message(
        "Database check failed for: {failing}.",
        "Kiểm tra cơ sở dữ liệu thất bại: {failing}.",
    ),
}
