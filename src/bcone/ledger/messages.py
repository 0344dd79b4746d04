"""Interface texts of the ledger pages, zh-CN first."""

from __future__ import annotations

from bcone.web.i18n import register_messages

LEDGER_MESSAGES: dict[str, tuple[str, str]] = {
    "nav.ledger": ("账户与提现", "Ledger"),
    "ledger.title": ("账户与提现", "Ledger and payouts"),
    "ledger.subtitle": (
        "预算、钱包与积分的复式记账余额，以及提现批次的导出与确认。",
        "Double-entry balances of budgets, wallets and points, and payout batches to export and confirm.",
    ),
    "ledger.balances": ("按账户类型的余额", "Balances by account kind"),
    "ledger.kind": ("账户类型", "Account kind"),
    "ledger.kind.all": ("全部类型", "All kinds"),
    "ledger.kind.campaign_budget": ("活动预算", "Campaign budget"),
    "ledger.kind.consumer_wallet": ("消费者钱包", "Consumer wallet"),
    "ledger.kind.store_wallet": ("门店钱包", "Store wallet"),
    "ledger.kind.staff_wallet": ("员工钱包", "Staff wallet"),
    "ledger.kind.payouts_clearing": ("提现在途", "Payouts clearing"),
    "ledger.kind.funding": ("品牌资金来源", "Brand funding"),
    "ledger.kind.payouts_external": ("已提现", "Paid out"),
    "ledger.unit": ("单位", "Unit"),
    "ledger.unit.fen": ("元", "Yuan"),
    "ledger.unit.points": ("积分", "Points"),
    "ledger.accounts": ("账户", "Accounts"),
    "ledger.account_count": ("账户数", "Accounts"),
    "ledger.balance": ("余额", "Balance"),
    "ledger.owner": ("归属", "Owner"),
    "ledger.name": ("名称", "Name"),
    "ledger.no_accounts": ("还没有账户", "No accounts yet"),
    "ledger.no_accounts_hint": (
        "扫码奖励、门店返利发放时会自动开立账户。",
        "Accounts open when scan rewards and store rebates are paid.",
    ),
    "ledger.statement": ("流水", "Statement"),
    "ledger.seq": ("序号", "No."),
    "ledger.amount": ("金额", "Amount"),
    "ledger.balance_after": ("余额", "Balance after"),
    "ledger.tx_kind": ("业务类型", "Type"),
    "ledger.memo": ("摘要", "Memo"),
    "ledger.time": ("时间", "Time"),
    "ledger.no_entries": ("还没有流水", "No entries yet"),
    "ledger.back": ("返回账户与提现", "Back to the ledger"),
    "ledger.batches": ("提现批次", "Payout batches"),
    "ledger.batch": ("提现批次", "Payout batch"),
    "ledger.pending": ("待处理提现：{count} 笔，共 {amount}", "Pending payouts: {count}, {amount} in total"),
    "ledger.create_batch": ("生成提现批次", "Create payout batch"),
    "ledger.batch_created": ("已生成提现批次，共 {count} 笔。", "Payout batch created with {count} lines."),
    "ledger.no_batches": ("还没有提现批次", "No payout batches yet"),
    "ledger.provider": ("付款方式", "Paid through"),
    "ledger.provider.finance_export": ("财务导出", "Finance export"),
    "ledger.provider.wechat_transfer": ("微信商家转账", "WeChat Pay transfer"),
    "ledger.status": ("状态", "Status"),
    "ledger.status.open": ("待付款", "Open"),
    "ledger.status.submitted": ("已提交", "Submitted"),
    "ledger.status.closed": ("已完成", "Closed"),
    "ledger.status.pending": ("待处理", "Pending"),
    "ledger.status.batched": ("已入批次", "In a batch"),
    "ledger.status.paid": ("已支付", "Paid"),
    "ledger.status.failed": ("失败", "Failed"),
    "ledger.lines": ("笔数", "Lines"),
    "ledger.total": ("金额", "Total"),
    "ledger.created_at": ("创建时间", "Created"),
    "ledger.payee": ("收款人", "Payee"),
    "ledger.payee_account": ("收款账号", "Payee account"),
    "ledger.reason": ("失败原因", "Failure reason"),
    "ledger.export": ("导出 CSV", "Export CSV"),
    "ledger.confirm": ("上传付款结果", "Upload payment results"),
    "ledger.confirm_hint": (
        "在导出的 CSV 中把 status 列填为 paid（已支付）或 failed（失败），再上传。",
        "Set the status column of the exported CSV to paid or failed, then upload it.",
    ),
    "ledger.confirm_file": ("结果文件（CSV）", "Result file (CSV)"),
    "ledger.confirmed": ("已记录付款结果。", "Payment results recorded."),
    "ledger.reconciliation": ("对账", "Reconciliation"),
    "ledger.reconciled": (
        "提现在途余额 {clearing} 与未完成提现 {open} 一致。",
        "Clearing balance {clearing} matches the open payouts {open}.",
    ),
    "ledger.unreconciled": (
        "提现在途余额 {clearing} 与未完成提现 {open} 不一致！",
        "Clearing balance {clearing} does not match the open payouts {open}!",
    ),
    "ledger.error": ("操作失败：{detail}", "Failed: {detail}"),
    "ledger.error.payout_state_conflict": (
        "当前状态不允许此操作：{detail}",
        "Not allowed in this state: {detail}",
    ),
    "ledger.error.invalid_confirmation": ("结果文件有误：{detail}", "The result file is wrong: {detail}"),
    "ledger.error.insufficient_funds": ("余额不足：{detail}", "Insufficient funds: {detail}"),
}


def register() -> None:
    """Register the ledger's messages (idempotent)."""
    register_messages(LEDGER_MESSAGES)
