"""Catalogue entries: Health: the pool and database health endpoints, `pool_report` and the sizing advice."""

from verisyntra.messages import Message

MESSAGES: dict[str, Message] = {
    # --- Health statuses (the `status_vi` of every health answer) --------------------------------
    "status.healthy": Message("Healthy", "Khỏe mạnh"),
    "status.warning": Message("Warning", "Cảnh báo"),
    "status.critical": Message("Critical", "Nguy cấp"),
    "status.unhealthy": Message("Unhealthy", "Không khỏe mạnh"),
    "status.ready": Message("Ready", "Sẵn sàng"),
    # --- Who may open what: /health/live and /health/ready are open, the details are for staff ---
    "staff_required": Message(
        "This endpoint shows the servers, pools and processes behind the service: it needs a staff account "
        "(a staff user's token, or a staff sign-in to the admin).",
        "Điểm cuối này hiển thị máy chủ, nhóm kết nối và tiến trình phía sau dịch vụ: cần tài khoản nhân viên "
        "(mã thông báo của người dùng nhân viên, hoặc đăng nhập trang quản trị bằng tài khoản nhân viên).",
    ),
    "not_ready": Message(
        "Not ready: the database does not answer through the connection pools.",
        "Chưa sẵn sàng: cơ sở dữ liệu không phản hồi qua các nhóm kết nối.",
    ),
    # --- GET /health/connection-pools: one recommendation per pool of this process ---------------
    "pool.server_unreachable": Message(
        "PostgreSQL at {host}:{port} is unreachable: check the server and DATABASE_URL / READ_DATABASE_URL.",
        "Không kết nối được PostgreSQL tại {host}:{port}: hãy kiểm tra máy chủ và DATABASE_URL / READ_DATABASE_URL.",
    ),
    "pool.exhausted_recently": Message(
        "{name} pool ran out {seconds:num} s ago in this process: requests got 503. Look for slow queries or "
        "connections held too long (manage.py pool_report) before raising {env}.",
        "Nhóm kết nối {name} đã hết kết nối {seconds:num} giây trước trong tiến trình này: các yêu cầu nhận lỗi 503. "
        "Hãy tìm truy vấn chậm hoặc kết nối bị giữ quá lâu (manage.py pool_report) trước khi tăng {env}.",
    ),
    "pool.server_busy": Message(
        "PostgreSQL uses {used:num} of {available:num} connections: lower the pool sizes, run fewer processes, or put PgBouncer in front.",
        "PostgreSQL đang dùng {used:num} trên {available:num} kết nối: hãy giảm kích thước nhóm kết nối, chạy ít tiến trình hơn, "
        "hoặc đặt PgBouncer phía trước.",
    ),
    "pool.busy_with_room": Message(
        "{name} pool is {percent:num}% used in this process: look for slow queries first; if the load is real, "
        "raise {env} (the server has room for {room:num} more {room:plural:connection:connections} at full load).",
        "Nhóm kết nối {name} đang được sử dụng {percent:num}% trong tiến trình này: hãy kiểm tra truy vấn chậm trước; "
        "nếu tải là thật, hãy tăng {env} (máy chủ còn chỗ cho {room:num} kết nối khi đầy tải).",
    ),
    "pool.busy_no_room": Message(
        "{name} pool is {percent:num}% used in this process, and the server has no room for bigger pools: "
        "add a read replica, run fewer processes, or put PgBouncer in front.",
        "Nhóm kết nối {name} đang được sử dụng {percent:num}% trong tiến trình này và máy chủ không còn chỗ cho nhóm kết nối "
        "lớn hơn: hãy thêm bản sao chỉ đọc, chạy ít tiến trình hơn, hoặc đặt PgBouncer phía trước.",
    ),
    "pool.normal": Message("{name} pool operating normally.", "Nhóm kết nối {name} hoạt động bình thường."),
    "pools.normal": Message("Connection pools operating normally.", "Các nhóm kết nối hoạt động bình thường."),
    # --- pool_report: findings -------------------------------------------------------------------
    "finding.server_unreachable": Message(
        "PostgreSQL at {where} is unreachable: {error}",
        "Không kết nối được PostgreSQL tại {where}: {error}",
    ),
    "finding.server_usage": Message(
        "{where} has {used:num} of {available:num} usable connections in use ({usage:num}%).",
        "{where} đang dùng {used:num} trên {available:num} kết nối khả dụng ({usage:num}%).",
    ),
    "finding.headroom_negative": Message(
        "At full load the pools of {processes:num} processes can open {need:num} connections on {where}, "
        "{missing:num} more than its {available:num} usable (max_connections {max_connections:num} "
        "- {reserved:num} reserved): new connections would then fail.",
        "Khi đầy tải, các nhóm kết nối của {processes:num} tiến trình có thể mở {need:num} kết nối tới {where}, "
        "nhiều hơn {missing:num} so với {available:num} kết nối khả dụng (max_connections {max_connections:num} "
        "- {reserved:num} dành riêng): khi đó kết nối mới sẽ thất bại.",
    ),
    "finding.leak_suspects": Message(
        "{count:num} {count:plural:connection:connections} idle in transaction for {threshold:num} s or more: "
        "probable leaks (a transaction begun and never ended); they hold locks and block VACUUM.",
        "{count:num} kết nối nhàn rỗi trong giao dịch từ {threshold:num} giây trở lên: "
        "nghi rò rỉ (giao dịch mở mà không kết thúc); chúng giữ khóa và cản VACUUM.",
    ),
    "finding.write_far_above": Message(
        "The write pools can run {usable:num} connections at once, far above the ~{rule:num} of the core-count rule: "
        "the surplus queues inside PostgreSQL (see Sizing).",
        "Các nhóm kết nối ghi có thể chạy {usable:num} kết nối cùng lúc, vượt xa khoảng {rule:num} theo quy tắc số lõi: "
        "phần dư xếp hàng bên trong PostgreSQL (xem Định cỡ).",
    ),
    "finding.replica_down": Message(
        "Read replica {where} does not answer: {error}; its reads go to the other replicas or the primary.",
        "Bản sao chỉ đọc {where} không phản hồi: {error}; truy vấn đọc chuyển sang bản sao khác hoặc máy chủ chính.",
    ),
    "finding.replica_lagging": Message(
        "Read replica {where} lags {lag:num.1} s behind the primary (limit {limit:num} s): it serves no reads until it catches up.",
        "Bản sao chỉ đọc {where} chậm {lag:num.1} giây so với máy chủ chính (giới hạn {limit:num} giây): "
        "không phục vụ truy vấn đọc cho đến khi bắt kịp.",
    ),
    "finding.reads_on_primary": Message(
        "No read replica is fit: every read is served by the primary, through the write pool.",
        "Không có bản sao chỉ đọc nào sẵn sàng: mọi truy vấn đọc đang do máy chủ chính phục vụ, qua nhóm kết nối ghi.",
    ),
    # --- pool_report: the text report's headings and lines ----------------------------------------
    "report.title": Message("VeriSyntra connection pools", "Các nhóm kết nối của VeriSyntra"),
    "report.status": Message("Overall status", "Trạng thái chung"),
    "report.processes": Message("Processes", "Tiến trình"),
    "report.processes_line": Message(
        "{web:num} web x {threads:num} threads, {workers:num} Celery {workers:plural:worker:workers}",
        "{web:num} tiến trình web x {threads:num} luồng, {workers:num} tiến trình Celery",
    ),
    "report.pools": Message("Configured pools (per process)", "Các nhóm kết nối đã cấu hình (mỗi tiến trình)"),
    "report.pool_line": Message(
        "{alias:<6} size {pool_size:num} + overflow {max_overflow:num} = {capacity:num}, timeout {timeout:num} s, "
        "recycle {recycle:num} s  -> {host}:{port}/{database}",
        "{alias:<6} kích thước {pool_size:num} + dự phòng {max_overflow:num} = {capacity:num}, chờ tối đa {timeout:num} giây, "
        "làm mới sau {recycle:num} giây  -> {host}:{port}/{database}",
    ),
    "report.live": Message("Live server connections (all processes)", "Kết nối đang mở trên máy chủ (mọi tiến trình)"),
    "report.live_line": Message("{alias:<6} ({app}): {total:num} total  {states}", "{alias:<6} ({app}): tổng {total:num}  {states}"),
    "report.unreachable": Message("unreachable", "không kết nối được"),
    "report.headroom": Message("Headroom against max_connections", "Dư địa so với max_connections"),
    "report.server_line": Message(
        "{host}:{port} ({aliases}): max_connections {max_connections:num} - {reserved:num} reserved = {available:num} usable; "
        "{used:num} in use ({usage:num}%), {free:num} free now",
        "{host}:{port} ({aliases}): max_connections {max_connections:num} - {reserved:num} dành riêng = {available:num} khả dụng; "
        "đang dùng {used:num} ({usage:num}%), còn trống {free:num}",
    ),
    "report.need_line": Message(
        "configured pools at full load: {need:num} ({processes:num} processes x pools) -> headroom {headroom:num}",
        "các nhóm kết nối khi đầy tải: {need:num} ({processes:num} tiến trình x nhóm kết nối) -> dư địa {headroom:num}",
    ),
    "report.pooler_line": Message(
        "behind PgBouncer {version} ({source}, {mode} mode): the pools are its clients, {clients:num} at full load against "
        "max_client_conn {max_client}; the server sees only its server connections, at most {per_pool} per database and user, "
        "{servers:num} open now, {waiting:num} clients waiting",
        "sau PgBouncer {version} ({source}, chế độ {mode}): các nhóm kết nối là máy khách của nó, {clients:num} khi đầy tải so với "
        "max_client_conn {max_client}; máy chủ chỉ thấy các kết nối máy chủ của nó, tối đa {per_pool} cho mỗi cơ sở dữ liệu "
        "và người dùng, đang mở {servers:num}, {waiting:num} máy khách đang chờ",
    ),
    "pooler_source.admin_console": Message("admin console", "bảng điều khiển quản trị"),
    "pooler_source.environment": Message("PGBOUNCER_* variables", "biến PGBOUNCER_*"),
    "pooler_mode.transaction": Message("transaction", "giao dịch"),
    "pooler_mode.session": Message("session", "phiên"),
    "pooler_mode.statement": Message("statement", "câu lệnh"),
    "report.pooler_live_note": Message(
        "(behind PgBouncer these are server connections, named after the last client that used each one: the split by pool is approximate)",
        "(sau PgBouncer đây là các kết nối máy chủ, mang tên máy khách cuối cùng đã dùng mỗi kết nối: cách chia theo nhóm chỉ gần đúng)",
    ),
    "report.leaks": Message(
        "Idle in transaction for {threshold:num} s or more (leak suspects)",
        "Nhàn rỗi trong giao dịch từ {threshold:num} giây trở lên (nghi rò rỉ)",
    ),
    "report.leak_none": Message("none", "không có"),
    "report.leak_line": Message(
        "pid {pid} {application_name}: {state} {idle:num.1} s (transaction {xact:num.1} s), blocking {blocking:num} "
        "{blocking:plural:session:sessions}, last query started {started}: {query}",
        "tiến trình {pid} {application_name}: {state} {idle:num.1} giây (giao dịch {xact:num.1} giây), đang chặn {blocking:num} "
        "phiên, truy vấn cuối bắt đầu lúc {started}: {query}",
    ),
    "report.replicas": Message("Read replicas (reads served by: {served})", "Bản sao chỉ đọc (truy vấn đọc do {served} phục vụ)"),
    "report.served.replicas": Message("replicas", "các bản sao"),
    "report.served.primary": Message("the primary", "máy chủ chính"),
    "report.replica_line": Message("{alias:<6} {host}:{port}: {status}, lag {lag}", "{alias:<6} {host}:{port}: {status}, độ trễ {lag}"),
    "report.seconds": Message("{seconds:num.1} s", "{seconds:num.1} giây"),
    "report.sizing": Message("Sizing", "Định cỡ"),
    "report.findings": Message("Findings", "Phát hiện"),
    "report.findings_none": Message("nothing to report", "không có vấn đề"),
    "report.status_rules": Message(
        "(the rules of /health/connection-pools; sizing advice does not change it. This report's own process "
        "holds no pools: each process's pool use and recent exhaustions are in its /health/connection-pools and in /metrics)",
        "(theo cùng quy tắc với /health/connection-pools; khuyến nghị định cỡ không làm thay đổi trạng thái này. "
        "Tiến trình của báo cáo không giữ nhóm kết nối nào: mức sử dụng và các lần hết kết nối gần đây của từng tiến trình "
        "có trong /health/connection-pools của tiến trình đó và trong /metrics)",
    ),
    "report.advice": Message(
        "Configuration advice (it does not change the status)", "Khuyến nghị cấu hình (không làm thay đổi trạng thái)"
    ),
    # PostgreSQL's connection states (pg_stat_activity.state), as the report names them.
    "pg_state.active": Message("active", "đang chạy truy vấn"),
    "pg_state.idle": Message("idle", "nhàn rỗi"),
    "pg_state.idle_in_transaction": Message("idle in transaction", "nhàn rỗi trong giao dịch"),
    "pg_state.idle_in_transaction_aborted": Message("idle in transaction (aborted)", "nhàn rỗi trong giao dịch (đã hủy bỏ)"),
    "pg_state.fastpath_function_call": Message("fastpath function call", "đang gọi hàm qua đường tắt"),
    "pg_state.disabled": Message("disabled", "không được theo dõi"),
    "pg_state.unknown": Message("unknown", "không rõ"),
    # Read replica states (verisyntra.db.replicas).
    "replica_status.primary": Message("primary", "máy chủ chính (không phải bản sao)"),
    "replica_status.streaming": Message("streaming", "đang nhận dữ liệu"),
    "replica_status.lagging": Message("lagging", "chậm trễ"),
    "replica_status.down": Message("down", "không phản hồi"),
    "replica_status.not_in_recovery": Message("not a replica (not in recovery)", "không phải bản sao (không ở chế độ phục hồi)"),
    "replica_status.primary_unreachable": Message("primary unreachable", "không kết nối được máy chủ chính"),
    # --- Sizing advice (health.sizing, verisyntra.db.sizing) ----------------------------------------
    # The original sizing tables: which workload a pool of this size was meant for.
    "sizing.read_workload.up_to_50": Message("up to 50 concurrent dashboard users", "tối đa 50 người dùng bảng điều khiển đồng thời"),
    "sizing.read_workload.50_to_200": Message("50-200 concurrent dashboard users", "50-200 người dùng bảng điều khiển đồng thời"),
    "sizing.read_workload.200_to_500": Message("200-500 concurrent dashboard users", "200-500 người dùng bảng điều khiển đồng thời"),
    "sizing.read_workload.beyond": Message(
        "more than 500 users, where read replicas and PgBouncer help more than a bigger pool",
        "hơn 500 người dùng, khi đó bản sao chỉ đọc và PgBouncer giúp nhiều hơn một nhóm kết nối lớn hơn",
    ),
    "sizing.write_workload.up_to_10": Message(
        "up to 10 concurrent data scans (5 connections each)",
        "tối đa 10 lượt quét dữ liệu đồng thời (mỗi lượt 5 kết nối)",
    ),
    "sizing.write_workload.10_to_20": Message("10-20 concurrent data scans", "10-20 lượt quét dữ liệu đồng thời"),
    "sizing.write_workload.20_to_50": Message("20-50 concurrent data scans", "20-50 lượt quét dữ liệu đồng thời"),
    "sizing.write_workload.beyond": Message(
        "more than 50 concurrent scans, where write sharding or queueing help more than a bigger pool",
        "hơn 50 lượt quét đồng thời, khi đó phân mảnh ghi hoặc xếp hàng giúp nhiều hơn một nhóm kết nối lớn hơn",
    ),
    "sizing.table_read": Message(
        "Sizing table: a read pool of {size:num} (+{overflow:num} overflow) per process is sized for {workload}.",
        "Bảng định cỡ: nhóm kết nối đọc {size:num} (+{overflow:num} dự phòng) mỗi tiến trình phù hợp cho {workload}.",
    ),
    "sizing.table_write": Message(
        "Sizing table: a write pool of {size:num} (+{overflow:num} overflow) per process is sized for {workload}.",
        "Bảng định cỡ: nhóm kết nối ghi {size:num} (+{overflow:num} dự phòng) mỗi tiến trình phù hợp cho {workload}.",
    ),
    "sizing.usable": Message(
        "Here a web process uses at most WEB_THREADS={threads} connections of each pool (one per thread) and a "
        "Celery process at most 1 (one scan at a time, one write connection): of the {capacity:num} write "
        "connections per process, at most {per_web:num} are ever used; {web:num} web + {workers:num} worker processes "
        "can use {usable:num} write connections at once, though the pools allow {allowed:num}.",
        "Ở đây mỗi tiến trình web dùng tối đa WEB_THREADS={threads} kết nối của mỗi nhóm kết nối (một kết nối mỗi luồng) và "
        "mỗi tiến trình Celery tối đa 1 (mỗi lần một lượt quét, một kết nối ghi): trong {capacity:num} kết nối ghi "
        "mỗi tiến trình, nhiều nhất {per_web:num} được dùng; {web:num} tiến trình web + {workers:num} tiến trình Celery "
        "dùng được {usable:num} kết nối ghi cùng lúc, dù các nhóm kết nối cho phép {allowed:num}.",
    ),
    "sizing.core_rule_unknown": Message(
        "Core-count rule (HikariCP, PostgreSQL wiki): about 2 x server cores + spindles connections doing work at "
        "once. The server is not local: set DATABASE_SERVER_CORES to apply it.",
        "Quy tắc theo số lõi (HikariCP, wiki PostgreSQL): khoảng 2 x số lõi máy chủ + số đĩa kết nối làm việc cùng "
        "lúc. Máy chủ không ở máy này: hãy đặt DATABASE_SERVER_CORES để áp dụng.",
    ),
    "sizing.core_rule": Message(
        "Core-count rule (HikariCP, PostgreSQL wiki): 2 x {cores:num} {cores:plural:core:cores} + {spindles:num} "
        "{spindles:plural:spindle:spindles} = about {rule:num} connections doing work at once on this server.",
        "Quy tắc theo số lõi (HikariCP, wiki PostgreSQL): 2 x {cores:num} lõi + {spindles:num} đĩa = khoảng {rule:num} "
        "kết nối làm việc cùng lúc trên máy chủ này.",
    ),
    "sizing.far_above_warning": Message(
        "WARNING: the write pools can run {usable:num} connections at once, far above the ~{rule:num} the server "
        "can serve. A write pool larger than the server can run at once only queues the work inside PostgreSQL, "
        "where it slows every dashboard. Cap the write pool of each process that serves heavy writes "
        "({heavy_writers:num} here) near the rule (about WRITE_POOL_SIZE = {suggested}, WRITE_POOL_MAX_OVERFLOW = 0), "
        "so surplus requests wait briefly and in order in the pool instead of inside the server, or run fewer processes.",
        "CẢNH BÁO: các nhóm kết nối ghi có thể chạy {usable:num} kết nối cùng lúc, vượt xa khoảng {rule:num} mà máy chủ "
        "phục vụ được. Nhóm kết nối ghi lớn hơn khả năng chạy đồng thời của máy chủ chỉ khiến công việc xếp hàng bên trong "
        "PostgreSQL, làm chậm mọi bảng điều khiển. Hãy giới hạn nhóm kết nối ghi của từng tiến trình phục vụ tác vụ ghi nặng "
        "(ở đây {heavy_writers:num} tiến trình) gần quy tắc (khoảng WRITE_POOL_SIZE = {suggested}, "
        "WRITE_POOL_MAX_OVERFLOW = 0), để các yêu cầu dư chờ ngắn và có thứ tự trong nhóm kết nối thay vì bên trong "
        "máy chủ, hoặc chạy ít tiến trình hơn.",
    ),
    # What `python -m benchmarks.pools` measured on this stack ({evidence} names the document).
    "sizing.evidence": Message(
        'docs/benchmarks.md, "Pool sizing under concurrent load"',
        "docs/benchmarks.md, phần định cỡ nhóm kết nối dưới tải đồng thời",
    ),
    "sizing.measured_split": Message(
        "Measured ({evidence}): in one process, threads share one interpreter lock, and parsing a large batch "
        "holds it for tens of milliseconds; with 30 writers, dashboards served by the same processes were {unsplit:num.1}x "
        "slower than without writers, against {split:num.1}x when nginx sent the heavy writes to their own processes. "
        "Run the write group (WEB_WRITE_CONCURRENCY >= 1, deploy/nginx.conf.template).",
        "Đã đo ({evidence}): trong một tiến trình, các luồng dùng chung một khóa trình thông dịch, và việc "
        "phân tích một lô lớn giữ khóa đó hàng chục mili giây; với 30 tác vụ ghi, bảng điều khiển do cùng các "
        "tiến trình phục vụ chậm gấp {unsplit:num.1} lần so với khi không có tác vụ ghi, so với {split:num.1} lần khi nginx chuyển các "
        "tác vụ ghi nặng sang tiến trình riêng. Hãy chạy nhóm ghi (WEB_WRITE_CONCURRENCY >= 1, "
        "deploy/nginx.conf.template).",
    ),
    "sizing.measured_write_pool": Message(
        "Measured ({evidence}): with a write pool of {capacity:num} per process, concurrent writers run all "
        "at once and dashboards slow down with them. For a {cores:num}-core database and {writers}, "
        "WRITE_POOL_SIZE={pool_size} and WRITE_POOL_MAX_OVERFLOW=0 kept dashboards fast at most of the write throughput.",
        "Đã đo ({evidence}): với nhóm kết nối ghi {capacity:num} kết nối mỗi tiến trình, các tác vụ ghi đồng thời "
        "chạy cùng lúc và bảng điều khiển chậm theo. Với máy chủ cơ sở dữ liệu {cores:num} lõi và "
        "{writers}, WRITE_POOL_SIZE={pool_size} và WRITE_POOL_MAX_OVERFLOW=0 "
        "giữ bảng điều khiển nhanh mà vẫn giữ phần lớn thông lượng ghi.",
    ),
    "sizing.writers.write_group": Message(
        "{count:num} write-group {count:plural:process:processes}",
        "{count:num} tiến trình nhóm ghi",
    ),
    "sizing.writers.web": Message("{count:num} web {count:plural:process:processes}", "{count:num} tiến trình web"),
    "sizing.measured_read_pool": Message(
        "Measured ({evidence}): a writer request keeps its read connection while it waits for the write pool, "
        "so with WEB_THREADS={threads} and a read capacity of {capacity:num}, writers can empty the read "
        "pool and dashboards wait. Allow READ_POOL_SIZE + READ_POOL_MAX_OVERFLOW >= {needed}.",
        "Đã đo ({evidence}): một yêu cầu ghi giữ kết nối đọc trong khi chờ nhóm kết nối ghi, nên với "
        "WEB_THREADS={threads} và dung lượng đọc {capacity:num}, các tác vụ ghi có thể dùng hết nhóm kết nối đọc "
        "và bảng điều khiển phải chờ. Hãy đặt READ_POOL_SIZE + READ_POOL_MAX_OVERFLOW >= {needed}.",
    ),
    # --- nginx's own answers (deploy/nginx_conf.py writes them into the front's configuration) -----
    "service_unavailable": Message(
        "The service is temporarily unavailable; retry in a few seconds.",
        "Dịch vụ tạm thời không khả dụng; vui lòng thử lại sau vài giây.",
    ),
}
