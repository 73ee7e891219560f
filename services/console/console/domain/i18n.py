"""Chinese first, English on request (a cookie): every label the console shows, in both languages."""

from __future__ import annotations

from collections.abc import Callable

LANGS = ("zh", "en")
DEFAULT = "zh"

TEXT: dict[str, tuple[str, str]] = {  # key: (中文, English)
    "app": ("会员管理控制台", "Member console"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "staff_id": ("工号", "Staff ID"),
    "password": ("密码", "Password"),
    "login_failed": ("工号或密码不正确", "Staff ID or password is wrong"),
    "session_over": ("请重新登录", "Please log in again"),
    "search": ("会员查询", "Member search"),
    "reviews": ("待审核资料", "Review queue"),
    "profile": ("我的资料", "My profile"),
    "language": ("English", "中文"),
    "by_card": ("卡号", "Card no."),
    "by_mobile": ("手机号", "Mobile"),
    "by_name": ("姓名", "Name"),
    "find": ("查询", "Search"),
    "no_results": ("没有找到会员（或无权查看）", "No member found (or not yours to see)"),
    "member": ("会员", "Member"),
    "member_id": ("会员编号", "Member ID"),
    "name": ("姓名", "Name"),
    "mobile": ("手机", "Mobile"),
    "store": ("门店", "Store"),
    "status": ("状态", "Status"),
    "card": ("会员卡", "Card"),
    "card_status": ("卡状态", "Card status"),
    "referrer": ("推荐人", "Referrer"),
    "created_at": ("建档时间", "Opened"),
    "review_note": ("审核意见", "Review note"),
    "file": ("会员档案", "Member file"),
    "ledger": ("积分明细", "Points ledger"),
    "messages": ("短信记录", "Messages sent"),
    "points": ("积分", "Points"),
    "kind": ("类型", "Kind"),
    "cause": ("原因", "Cause"),
    "operator": ("操作人", "Operator"),
    "at": ("时间", "When"),
    "age_hours": ("等待（小时）", "Waiting (hours)"),
    "overdue": ("已超时", "Overdue"),
    "approve": ("通过", "Approve"),
    "send_back": ("退回", "Send back"),
    "reason": ("原因", "Reason"),
    "queue_empty": ("没有待审核的资料", "Nothing waiting for review"),
    "approved": ("已通过，已发卡", "Approved; card issued"),
    "sent_back": ("已退回", "Sent back"),
    "refused": ("操作被拒绝", "Refused"),
    "refused_by": ("拒绝方", "Refused by"),
    "unavailable": ("服务暂不可用", "Service unavailable"),
    "role": ("角色", "Role"),
    "aging": ("应收账龄", "Receivables aging"),
    "as_of": ("截至", "As of"),
    "by": ("维度", "By"),
    "by.customer": ("客户", "Customer"),
    "by.staff": ("员工", "Staff"),
    "by.store": ("门店", "Store"),
    "by.region": ("区域", "Region"),
    "current": ("未到期", "Current"),
    "d1_30": ("1-30 天", "1-30 days"),
    "d31_60": ("31-60 天", "31-60 days"),
    "d61_90": ("61-90 天", "61-90 days"),
    "over_90": ("90 天以上", "Over 90 days"),
    "total": ("合计", "Total"),
    "yuan": ("金额单位：元", "Amounts in yuan"),
    "download_xlsx": ("下载 Excel（XLSX）", "Download Excel (XLSX)"),
    "download_csv": ("下载 CSV", "Download CSV"),
    "show": ("显示", "Show"),
    "adjustments": ("积分调整", "Points adjustments"),
    "adjust": ("申请积分调整", "Request a points adjustment"),
    "program": ("积分方案", "Program"),
    "points_delta": ("积分（正数增加，负数扣减）", "Points (+ adds, - takes)"),
    "receipt_no": ("补录小票号（可选）", "Back-filled receipt no. (optional)"),
    "submit": ("提交", "Submit"),
    "requested": ("已提交，等待第二人审批", "Requested; waiting for a second person"),
    "requested_by": ("申请人", "Requested by"),
    "reject": ("驳回", "Reject"),
    "rejected": ("已驳回", "Rejected"),
    "adj_approved": ("已批准，积分已入账", "Approved; points booked"),
    "campaigns": ("营销短信活动", "SMS campaigns"),
    "campaign": ("活动", "Campaign"),
    "recipients": ("收件人", "Recipients"),
    "rate": ("发送速率（条/秒）", "Rate (per second)"),
    "scheduled_at": ("计划开始", "Scheduled"),
    "pause": ("暂停", "Pause"),
    "resume": ("继续", "Resume"),
    "paused": ("已暂停", "Paused"),
    "resumed": ("已继续发送", "Resumed"),
    "campaigns_empty": ("还没有营销活动", "No campaign yet"),
    "adj_empty": ("没有待审批的积分调整", "No adjustment waiting"),
    "region": ("区域", "Region"),
    "prev": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "page": ("第 {n} / {of} 页，共 {total} 条", "Page {n} of {of}, {total} rows"),
    "back": ("返回", "Back"),
    "actions": ("操作", "Actions"),
    "open": ("查看", "Open"),
    "not_found": ("没有这个会员", "No such member"),
    "hq_all": ("总部（全部门店）", "HQ (all stores)"),
    "role.hq_admin": ("总部管理员", "HQ admin"),
    "role.hq_cs": ("总部客服", "HQ customer service"),
    "role.store_manager": ("店长", "Store manager"),
    "role.store_cs_manager": ("门店客服主管", "Store customer-service manager"),
    "role.staff": ("店员", "Staff"),
    "role.auditor": ("审计", "Auditor"),
    "role.pos": ("收银机", "POS"),
}


def pick(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT


def translator(lang: str) -> Callable[..., str]:
    """t(key, **fields) in `lang`; an unknown key shows itself (a missing label is visible, not a crash)."""
    i = LANGS.index(pick(lang))

    def t(key: str, **fields: object) -> str:
        pair = TEXT.get(key)
        s = pair[i] if pair else key
        return s.format(**fields) if fields else s

    return t
