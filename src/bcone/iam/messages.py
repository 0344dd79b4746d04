"""Interface texts of the iam pages, zh-CN first."""

from __future__ import annotations

from bcone.web.i18n import register_messages

IAM_MESSAGES: dict[str, tuple[str, str]] = {
    "iam.login.title": ("登录", "Log in"),
    "iam.login.heading": ("登录 bcone 控制台", "Log in to the bcone console"),
    "iam.login.email": ("邮箱", "Email"),
    "iam.login.password": ("密码", "Password"),
    "iam.login.submit": ("登录", "Log in"),
    "iam.login.error.invalid": ("邮箱或密码不正确。", "Wrong email or password."),
    "iam.login.error.throttled": (
        "该邮箱登录失败次数过多，请 15 分钟后再试。",
        "Too many failed logins for this email. Try again in 15 minutes.",
    ),
    "iam.login.error.throttled_client": (
        "来自此网络地址的登录失败次数过多，请 15 分钟后再试。",
        "Too many failed logins from this network address. Try again in 15 minutes.",
    ),
    "iam.login.error.csrf": (
        "登录页面已过期，请重新输入并提交。",
        "The login page expired. Enter your details and submit again.",
    ),
    "iam.settings.title": ("设置", "Settings"),
    "iam.settings.tabs": ("设置分区", "Settings sections"),
    "iam.users.title": ("用户", "Users"),
    "iam.users.subtitle": (
        "可以登录控制台的员工和渠道伙伴。渠道伙伴只能看到所属组织的数据。",
        "Staff and channel partners who can log in. A partner sees only its own organisation.",
    ),
    "iam.users.new": ("添加用户", "Add a user"),
    "iam.users.email": ("邮箱", "Email"),
    "iam.users.display_name": ("姓名", "Name"),
    "iam.users.role": ("角色", "Role"),
    "iam.users.org_id": ("所属组织 ID", "Organisation ID"),
    "iam.users.org_hint": ("仅渠道伙伴需要填写。", "Only for channel partners."),
    "iam.users.password": ("初始密码", "Initial password"),
    "iam.users.password_hint": ("至少 10 个字符。", "At least 10 characters."),
    "iam.users.status": ("状态", "Status"),
    "iam.users.last_login": ("最近登录", "Last login"),
    "iam.users.status.active": ("正常", "Active"),
    "iam.users.status.disabled": ("已停用", "Disabled"),
    "iam.users.you": ("你", "you"),
    "iam.users.apply": ("应用", "Apply"),
    "iam.users.empty": ("还没有用户", "No users yet"),
    "iam.users.created": ("已添加用户 {email}。", "User {email} added."),
    "iam.users.updated": ("已更新用户 {email}。", "User {email} updated."),
    "iam.users.update_failed": ("未能更新用户：{detail}", "Could not update the user: {detail}"),
    "iam.keys.title": ("API 密钥", "API keys"),
    "iam.keys.subtitle": (
        "供系统集成调用 API，以 Authorization: Bearer 方式发送。密钥只在创建时显示一次。",
        "For system integrations, sent as Authorization: Bearer. A key is shown only once, when created.",
    ),
    "iam.keys.new": ("创建密钥", "Create a key"),
    "iam.keys.name": ("名称", "Name"),
    "iam.keys.name_hint": ("例如：ERP 库存同步", "For example: ERP stock sync"),
    "iam.keys.role": ("角色", "Role"),
    "iam.keys.org_id": ("所属组织 ID", "Organisation ID"),
    "iam.keys.expires": ("有效期", "Expires"),
    "iam.keys.expires_days": ("{days} 天", "{days} days"),
    "iam.keys.never": ("永不过期", "Never"),
    "iam.keys.prefix": ("前缀", "Prefix"),
    "iam.keys.last_used": ("最近使用", "Last used"),
    "iam.keys.created_at": ("创建时间", "Created"),
    "iam.keys.state": ("状态", "State"),
    "iam.keys.state.active": ("有效", "Active"),
    "iam.keys.state.revoked": ("已吊销", "Revoked"),
    "iam.keys.state.expired": ("已过期", "Expired"),
    "iam.keys.revoke": ("吊销", "Revoke"),
    "iam.keys.revoke_confirm": (
        "吊销后使用该密钥的系统将立即无法访问，确定吗？",
        "Systems using this key lose access at once. Revoke it?",
    ),
    "iam.keys.revoked": ("已吊销密钥 {name}。", "Key {name} revoked."),
    "iam.keys.created_title": ("密钥已创建", "Key created"),
    "iam.keys.created_hint": (
        "请立即复制并妥善保存，关闭页面后将无法再次查看。",
        "Copy it now and keep it safe: it cannot be shown again.",
    ),
    "iam.keys.empty": ("还没有 API 密钥", "No API keys yet"),
}


def register() -> None:
    """Register the iam texts (idempotent)."""
    register_messages(IAM_MESSAGES)
