"""Catalogue entries: Inventory: processing-activity validation, data scans, and the labels of categories, legal bases and scan statuses."""

from verisyntra.messages import Message

MESSAGES: dict[str, Message] = {
    # PDPL categories: the law (Law 91/2025/QH15) knows basic and sensitive personal data; "public" is the product's own.
    "category.sensitive": Message("Category 1: Sensitive Personal Data", "Loại 1: Dữ liệu Cá nhân Nhạy cảm"),
    "category.basic": Message("Category 2: Basic Personal Data", "Loại 2: Dữ liệu Cá nhân Cơ bản"),
    "category.public": Message("Category 3: Public Data", "Loại 3: Dữ liệu Công khai"),
    # Legal bases of processing.
    "legal_basis.consent": Message("Consent", "Sự đồng ý của chủ thể dữ liệu"),
    "legal_basis.contract": Message("Contract", "Thực hiện hợp đồng"),
    "legal_basis.legal_obligation": Message("Legal obligation", "Nghĩa vụ theo quy định của pháp luật"),
    "legal_basis.vital_interest": Message("Vital interest", "Bảo vệ tính mạng, sức khỏe"),
    "legal_basis.public_interest": Message("Public interest", "Lợi ích công cộng"),
    "legal_basis.legitimate_interest": Message("Legitimate interest", "Lợi ích hợp pháp"),
    "legal_basis.unstated": Message("Not stated", "Chưa xác định"),
    # Cross-border transfer, as the compliance summary labels its two groups.
    "cross_border.yes": Message("Cross-border transfer", "Có chuyển dữ liệu cá nhân xuyên biên giới"),
    "cross_border.no": Message("No cross-border transfer", "Không chuyển dữ liệu cá nhân xuyên biên giới"),
    # Data scan statuses.
    "scan_status.pending": Message("Pending", "Đang chờ xử lý"),
    "scan_status.processing": Message("Processing", "Đang xử lý"),
    "scan_status.completed": Message("Completed", "Hoàn thành"),
    "scan_status.failed": Message("Failed", "Thất bại"),
    "scan_status.cancelled": Message("Cancelled", "Đã hủy"),
    # The admin's list action that cancels scans (inventory.admin.DataScanAdmin.cancel_scans).
    "scan.cancel.action": Message("Cancel the selected pending or processing scans", "Hủy các lần quét đang chờ hoặc đang xử lý đã chọn"),
    "scan.cancel.done": Message(
        "{count:num} {count:plural:scan:scans} cancelled; the rows already written stay.",
        "Đã hủy {count:num} lần quét; các bản ghi đã ghi vẫn được giữ lại.",
    ),
    "scan.cancel.skipped": Message(
        "{count:num} {count:plural:scan was:scans were} already finished and left as {count:plural:it was:they were}.",
        "{count:num} lần quét đã kết thúc từ trước và được giữ nguyên.",
    ),
    # A batch refused as a whole (all or nothing): the 400 that lists every bad item.
    "invalid_activities": Message(
        "{records_failed:num} {records_failed:plural:activity is:activities are} invalid; nothing was written.",
        "{records_failed:num} hoạt động không hợp lệ; không có bản ghi nào được ghi.",
    ),
    # One bad item of a batch or a data scan. The item error's `code` is the part after `item.`
    # up to the next dot; the rest names the variant of that mistake (which type, which field).
    "item.required": Message("This field is required.", "Trường này là bắt buộc."),
    "item.unknown_field": Message("Unknown field.", "Trường không được hỗ trợ."),
    "item.not_an_object": Message("Each activity must be a JSON object.", "Mỗi hoạt động phải là một đối tượng JSON."),
    "item.invalid_characters.surrogate": Message(
        "Text must be valid Unicode (no unpaired surrogates).",
        "Văn bản phải là Unicode hợp lệ (không có ký tự thay thế đơn lẻ).",
    ),
    "item.invalid_characters.nul": Message("Text must not contain NUL characters.", "Văn bản không được chứa ký tự NUL."),
    "item.invalid_type.string": Message("Must be a string.", "Phải là một chuỗi ký tự."),
    "item.invalid_type.list": Message("Must be a list of strings.", "Phải là một danh sách chuỗi ký tự."),
    "item.invalid_type.bool": Message("Must be true or false.", "Phải là true hoặc false."),
    "item.invalid_type.int": Message("Must be a whole number.", "Phải là một số nguyên."),
    # Empty and whitespace-only text are the same mistake: one sentence.
    "item.blank": Message("Must not be blank.", "Không được để trống."),
    "item.too_long": Message(
        "At most {limit:num} {limit:plural:character:characters}.",
        "Tối đa {limit:num} ký tự.",
    ),
    "item.empty_list": Message("The list must not be empty.", "Danh sách không được để trống."),
    "item.empty_list.data_fields": Message(
        "List at least one personal data field.",
        "Hãy liệt kê ít nhất một trường dữ liệu cá nhân.",
    ),
    "item.too_many_items": Message(
        "At most {limit:num} {limit:plural:item:items}.",
        "Tối đa {limit:num} phần tử.",
    ),
    "item.out_of_range": Message(
        "Must be between {low:num} and {high:num}.",
        "Phải nằm trong khoảng từ {low:num} đến {high:num}.",
    ),
    "item.invalid_choice.pdpl_category": Message(
        "Unknown PDPL category; use one of {choices}.",
        "Loại dữ liệu cá nhân không hợp lệ; hãy dùng một trong các giá trị {choices}.",
    ),
    "item.invalid_choice.legal_basis": Message(
        "Unknown legal basis; use one of {choices}.",
        "Cơ sở pháp lý không hợp lệ; hãy dùng một trong các giá trị {choices}.",
    ),
    # Any pydantic error the mapping does not name: pydantic's own (English) words as the detail.
    "item.invalid_value": Message("Invalid value: {detail}", "Giá trị không hợp lệ: {detail}"),
    # Why a data scan ended `failed` (stored on the scan, shown by the API and the admin).
    "scan.record_not_written": Message(
        "Record {index:num} could not be written: {detail}",
        "Không thể ghi bản ghi {index:num} vào cơ sở dữ liệu: {detail}",
    ),
    # When no single record of the chunk is refused on its own (records refused only together).
    "scan.records_not_written": Message(
        "Records {first:num}-{last:num} could not be written: {detail}",
        "Không thể ghi các bản ghi từ {first:num} đến {last:num} vào cơ sở dữ liệu: {detail}",
    ),
    "scan.count_mismatch": Message(
        "The scan wrote {written:num} processing {written:plural:activity:activities} for {total:num} {total:plural:record:records}.",
        "Lần quét đã ghi {written:num} hoạt động xử lý dữ liệu cá nhân cho {total:num} bản ghi.",
    ),
    "scan.database_unavailable": Message(
        "The database was unavailable after {attempts:num} {attempts:plural:attempt:attempts} ({error_class}); retry the scan.",
        "Cơ sở dữ liệu không khả dụng sau {attempts:num} lần thử ({error_class}); hãy chạy lại lần quét.",
    ),
    "scan.unexpected_error": Message(
        "The scan stopped on an unexpected error ({error_class}).",
        "Lần quét dừng do lỗi không mong đợi ({error_class}).",
    ),
}
