"""Catalogue entries: Idempotent retries: the Idempotency-Key header and its answers.

Keys are the `code` of the error body (`verisyntra.api.idempotency` raises them).
"""

from verisyntra.messages import Message

MESSAGES: dict[str, Message] = {
    "invalid_idempotency_key": Message(
        "The Idempotency-Key header must be 1 to {max_length:num} printable ASCII characters.",
        "Tiêu đề Idempotency-Key phải gồm từ 1 đến {max_length:num} ký tự ASCII in được.",
    ),
    "idempotency_key_reused": Message(
        "This Idempotency-Key was already used for a different request (method, path, query or body). Send a new key with a new request.",
        "Idempotency-Key này đã được dùng cho một yêu cầu khác (phương thức, đường dẫn, truy vấn hoặc nội dung). "
        "Hãy gửi khóa mới cho yêu cầu mới.",
    ),
    "idempotency_key_in_flight": Message(
        "A request with this Idempotency-Key is still being processed. Retry after {seconds} seconds to receive its answer.",
        "Một yêu cầu với Idempotency-Key này vẫn đang được xử lý. Hãy thử lại sau {seconds} giây để nhận kết quả của nó.",
    ),
}
