"""Catalogue entries: personal-data types found by discovery, and why a column was classified so."""

from verisyntra.messages import Message

MESSAGES: dict[str, Message] = {
    # Personal-data types (inventory/discovery/personal_data.py), under Decree 13/2023/ND-CP Article 2.
    "pd_type.full_name": Message("Full name", "Họ và tên"),
    "pd_type.date_of_birth": Message("Date of birth", "Ngày, tháng, năm sinh"),
    "pd_type.gender": Message("Gender", "Giới tính"),
    "pd_type.address": Message("Address", "Địa chỉ"),
    "pd_type.nationality": Message("Nationality", "Quốc tịch"),
    "pd_type.image": Message("Image of the person", "Hình ảnh của cá nhân"),
    "pd_type.phone": Message("Phone number", "Số điện thoại"),
    "pd_type.citizen_id": Message("Citizen ID (CCCD/CMND) number", "Số căn cước công dân / chứng minh nhân dân"),
    "pd_type.passport": Message("Passport number", "Số hộ chiếu"),
    "pd_type.driving_licence": Message("Driving licence number", "Số giấy phép lái xe"),
    "pd_type.licence_plate": Message("Vehicle licence plate", "Biển số xe"),
    "pd_type.tax_code": Message("Personal tax code", "Mã số thuế cá nhân"),
    "pd_type.social_insurance": Message("Social insurance number", "Số bảo hiểm xã hội"),
    "pd_type.health_insurance": Message("Health insurance card number", "Số thẻ bảo hiểm y tế"),
    "pd_type.marital_status": Message("Marital status", "Tình trạng hôn nhân"),
    "pd_type.family_relation": Message("Family relations", "Mối quan hệ gia đình"),
    "pd_type.email": Message("E-mail address", "Địa chỉ thư điện tử"),
    "pd_type.online_account": Message("Online account", "Tài khoản số của cá nhân"),
    "pd_type.ip_address": Message("IP address", "Địa chỉ IP"),
    "pd_type.blood_group": Message("Blood group", "Nhóm máu"),
    "pd_type.political_view": Message("Political views", "Quan điểm chính trị"),
    "pd_type.religion": Message("Religion", "Tôn giáo"),
    "pd_type.health": Message("Health and medical records", "Tình trạng sức khỏe, hồ sơ bệnh án"),
    "pd_type.ethnicity": Message("Racial or ethnic origin", "Nguồn gốc chủng tộc, dân tộc"),
    "pd_type.genetic": Message("Genetic data", "Dữ liệu di truyền"),
    "pd_type.biometric": Message("Biometric data", "Dữ liệu sinh trắc học"),
    "pd_type.sex_life": Message("Sex life or sexual orientation", "Đời sống tình dục, xu hướng tình dục"),
    "pd_type.criminal_record": Message("Criminal records", "Dữ liệu về tội phạm, hành vi phạm tội"),
    "pd_type.bank_account": Message("Bank account number", "Số tài khoản ngân hàng"),
    "pd_type.payment_card": Message("Payment card number", "Số thẻ thanh toán"),
    "pd_type.location": Message("Location data", "Dữ liệu vị trí"),
    # Why a column was classified so.
    "pd_reason.name": Message("By its column name", "Theo tên cột"),
    "pd_reason.values": Message("By its sampled values", "Theo giá trị mẫu"),
    "pd_reason.both": Message("By its column name and its sampled values", "Theo tên cột và giá trị mẫu"),
}
