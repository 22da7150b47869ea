"""Catalogue entries: API access: throttled requests, the admin sign-in lockout, and API tokens in the admin."""

from verisyntra.messages import Message

MESSAGES: dict[str, Message] = {
    # The sentence of a `throttled` 429 the service answers itself (DRF throttles, failed tokens),
    # which knows the wait; nginx's own 429 uses `throttled`, without one.
    "throttled.wait": Message(
        "Too many requests: retry in {retry_after_seconds:num} {retry_after_seconds:plural:second:seconds}.",
        "Quá nhiều yêu cầu: hãy thử lại sau {retry_after_seconds:num} giây.",
    ),
    # The admin sign-in page while the client's address is locked out (accounts.lockout).
    "auth.lockout.title": Message("Sign-in temporarily locked", "Đăng nhập tạm thời bị khóa"),
    "auth.lockout.body": Message(
        "Too many failed sign-in attempts from your address. Sign-in from it is locked for "
        "{minutes:num} {minutes:plural:minute:minutes}; every further attempt, even with the right password, starts the wait again.",
        "Có quá nhiều lần đăng nhập thất bại từ địa chỉ của bạn. Việc đăng nhập từ địa chỉ này bị khóa trong "
        "{minutes:num} phút; mỗi lần thử tiếp theo, kể cả với mật khẩu đúng, sẽ tính lại thời gian chờ từ đầu.",
    ),
    "auth.lockout.advice": Message(
        "Wait, then sign in again, or ask an administrator to lift the lock.",
        "Hãy chờ rồi đăng nhập lại, hoặc đề nghị quản trị viên gỡ khóa.",
    ),
    # The API tokens' admin: columns, states, actions and notices.
    "auth.column.prefix": Message("token id (prefix)", "mã nhận diện (tiền tố)"),
    "auth.column.user": Message("user", "người dùng"),
    "auth.column.tenant": Message("tenant (empty: all of the user's)", "tổ chức (trống: mọi tổ chức của người dùng)"),
    "auth.column.name": Message("name", "tên"),
    "auth.column.expires": Message("expires (UTC)", "hết hạn lúc (UTC)"),
    "auth.column.last_used": Message("last used (UTC)", "dùng lần cuối lúc (UTC)"),
    "auth.column.revoked": Message("revoked (UTC)", "thu hồi lúc (UTC)"),
    "auth.column.replaced_by": Message("replaced by", "được thay bằng"),
    "auth.column.state": Message("state", "tình trạng"),
    "auth.column.new_token": Message("new token", "mã thông báo mới"),
    "auth.state.active": Message("valid", "còn hiệu lực"),
    "auth.state.expired": Message("expired", "đã hết hạn"),
    "auth.state.revoked": Message("revoked", "đã thu hồi"),
    "auth.action.revoke": Message("Revoke the selected tokens", "Thu hồi các mã thông báo đã chọn"),
    "auth.action.rotate": Message("Rotate the selected tokens", "Thay mới các mã thông báo đã chọn"),
    "auth.notice.revoked": Message(
        "{count:num} {count:plural:token:tokens} revoked: {count:plural:it no longer works:they no longer work}.",
        "Đã thu hồi {count:num} mã thông báo: các mã này không còn dùng được.",
    ),
    "auth.notice.not_rotatable": Message(
        "{count:num} revoked or already replaced {count:plural:token was:tokens were} left alone.",
        "{count:num} mã thông báo đã bị thu hồi hoặc đã được thay mới nên được giữ nguyên.",
    ),
    "auth.issued.title": Message("New API tokens", "Mã thông báo API mới"),
    "auth.issued.once": Message(
        "Copy each new token now: it is shown this once only and is not stored anywhere. "
        "The tokens they replace keep working until {until}.",
        "Hãy sao chép từng mã thông báo mới ngay bây giờ: mã chỉ hiển thị một lần này và không được lưu ở đâu cả. "
        "Các mã thông báo cũ vẫn dùng được đến {until}.",
    ),
    "auth.issued.back": Message("Back to the API tokens", "Quay lại danh sách mã thông báo API"),
}
