"""Catalogue entries: the pages people open in a browser (the front page, the admin's extra pages)."""

from verisyntra.messages import Message

MESSAGES: dict[str, Message] = {
    # The front page at `/` (verisyntra/pages.py): what the service is and where everything is.
    "front.title": Message("VeriSyntra data inventory", "VeriSyntra – Kiểm kê dữ liệu cá nhân"),
    "front.intro": Message(
        "VeriSyntra keeps companies' records of processing of personal data under Vietnam's Personal Data Protection Law"
        " (Law 91/2025/QH15): processing activities, their category, legal basis, recipients and cross-border transfers,"
        " for each tenant.",
        "VeriSyntra lưu hồ sơ xử lý dữ liệu cá nhân của doanh nghiệp theo Luật Bảo vệ dữ liệu cá nhân của Việt Nam"
        " (Luật số 91/2025/QH15): các hoạt động xử lý dữ liệu cá nhân, loại dữ liệu, căn cứ pháp lý, bên nhận dữ liệu"
        " và việc chuyển dữ liệu cá nhân xuyên biên giới, theo từng tổ chức.",
    ),
    "front.api_access": Message(
        "Every API call needs a token (header Authorization: Token <key>) and names its tenant with the tenant_id parameter.",
        "Mọi lệnh gọi API cần mã thông báo (tiêu đề Authorization: Token <khóa>) và chỉ rõ tổ chức bằng tham số tenant_id.",
    ),
    "front.section.documentation": Message("Documentation", "Tài liệu"),
    "front.section.administration": Message("Administration", "Quản trị"),
    "front.section.operations": Message("Health and metrics", "Tình trạng và số liệu đo"),
    "front.link.api_docs": Message("Interactive API documentation (Swagger UI)", "Tài liệu API tương tác (Swagger UI)"),
    "front.link.api_schema": Message("OpenAPI 3 schema", "Lược đồ OpenAPI 3"),
    "front.link.admin": Message(
        "Admin: tenants, processing activities and data scans (staff accounts)",
        "Trang quản trị: tổ chức, hoạt động xử lý dữ liệu cá nhân và lượt quét dữ liệu (tài khoản nhân viên)",
    ),
    "front.link.health_live": Message(
        "Liveness probe (answers without touching the database)", "Kiểm tra tiến trình còn sống (trả lời mà không truy cập cơ sở dữ liệu)"
    ),
    "front.link.health_ready": Message(
        "Readiness probe (the database answers through the connection pools; yes or no, no details)",
        "Kiểm tra sẵn sàng (cơ sở dữ liệu phản hồi qua các nhóm kết nối; chỉ có hoặc không, không kèm chi tiết)",
    ),
    "front.link.health_pools": Message("Connection pool health (staff accounts)", "Tình trạng nhóm kết nối (tài khoản nhân viên)"),
    "front.link.health_database": Message(
        "Database and read replica health (staff accounts)", "Tình trạng cơ sở dữ liệu và các bản sao chỉ đọc (tài khoản nhân viên)"
    ),
    "front.link.metrics": Message("Prometheus metrics (staff accounts)", "Số liệu đo Prometheus (tài khoản nhân viên)"),
    # `/health/`: an index, so that the address people guess first leads somewhere; it checks nothing itself.
    "health_index.note": Message(
        "This index checks nothing: probe the endpoints it lists.",
        "Trang mục lục này không kiểm tra gì: hãy gọi các điểm cuối được liệt kê.",
    ),
}
