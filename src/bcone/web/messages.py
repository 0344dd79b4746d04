"""Messages of the console shell: navigation, layout, shared controls, error pages, overview.

Keys start with ``nav.``, ``shell.`` or ``overview.``; domain templates may use the ``shell.``
ones (buttons, paging, form errors) instead of registering their own.
"""

from __future__ import annotations

from bcone.web.i18n import register_messages

SHELL_MESSAGES: dict[str, tuple[str, str]] = {
    "nav.overview": ("经营概览", "Overview"),
    "nav.network": ("渠道网络", "Channel network"),
    "nav.staff": ("门店员工", "Store staff"),
    "nav.catalog": ("商品", "Products"),
    "nav.settings": ("设置", "Settings"),
    "shell.tagline": ("品牌营销数字化", "Marketing digitalization"),
    "shell.skip_to_content": ("跳到主要内容", "Skip to main content"),
    "shell.main_nav": ("主导航", "Main navigation"),
    "shell.menu": ("菜单", "Menu"),
    "shell.language": ("界面语言", "Language"),
    "shell.logout": ("退出登录", "Log out"),
    "shell.signed_in_as": ("当前用户", "Signed in as"),
    "shell.platform_operator": ("平台运营方", "Platform operator"),
    "shell.role.owner": ("所有者", "Owner"),
    "shell.role.admin": ("管理员", "Administrator"),
    "shell.role.marketer": ("市场人员", "Marketer"),
    "shell.role.sales_manager": ("销售经理", "Sales manager"),
    "shell.role.sales_rep": ("销售代表", "Sales representative"),
    "shell.role.analyst": ("分析师", "Analyst"),
    "shell.role.partner": ("渠道伙伴", "Channel partner"),
    "shell.save": ("保存", "Save"),
    "shell.cancel": ("取消", "Cancel"),
    "shell.create": ("新建", "New"),
    "shell.edit": ("编辑", "Edit"),
    "shell.delete": ("删除", "Delete"),
    "shell.search": ("搜索", "Search"),
    "shell.search_placeholder": ("输入关键词搜索", "Search by keyword"),
    "shell.actions": ("操作", "Actions"),
    "shell.back": ("返回", "Back"),
    "shell.loading": ("加载中…", "Loading…"),
    "shell.required": ("必填", "required"),
    "shell.dismiss": ("关闭", "Dismiss"),
    "shell.none": ("无", "None"),
    "shell.pagination": ("分页", "Pagination"),
    "shell.previous": ("上一页", "Previous"),
    "shell.next": ("下一页", "Next"),
    "shell.page_of": ("第 {page} / {pages} 页", "Page {page} of {pages}"),
    "shell.total_rows": ("共 {total} 条", "{total} in total"),
    "shell.form_has_errors": ("请修正下面标出的问题。", "Please correct the fields marked below."),
    "shell.request_failed": ("请求失败，请稍后重试。", "The request failed. Please try again."),
    "shell.error.title": ("出错了", "Something went wrong"),
    "shell.error.hint": (
        "请返回上一页重试；如果问题持续出现，请联系管理员。",
        "Go back and try again; if it keeps happening, contact your administrator.",
    ),
    "shell.error.403.title": ("无权访问", "Access denied"),
    "shell.error.403.hint": (
        "你的角色不能查看或执行此操作。如需权限，请联系管理员。",
        "Your role cannot see or do this. Ask an administrator for access.",
    ),
    "shell.error.404.title": ("页面不存在", "Page not found"),
    "shell.error.404.hint": (
        "链接可能有误，或该记录已被删除。",
        "The link may be wrong, or the record was deleted.",
    ),
    "shell.error.422.title": ("请求无效", "Invalid request"),
    "shell.error.422.hint": (
        "请求中的参数有误，请返回修改后重试。",
        "Something in the request was not valid. Go back, correct it and try again.",
    ),
    "shell.error.code": ("错误代码", "Error code"),
    "shell.back_home": ("返回经营概览", "Back to the overview"),
    "overview.title": ("经营概览", "Operating overview"),
    "overview.subtitle": (
        "最近 {days} 天的业务事件，按北京时间计日。",
        "Business events over the last {days} days, by day in China Standard Time.",
    ),
    "overview.partner_scope": ("仅显示你所在组织的数据。", "Showing your organisation only."),
    "overview.range": ("时间范围", "Period"),
    "overview.days": ("近 {days} 天", "Last {days} days"),
    "overview.total_events": ("事件总数", "Events"),
    "overview.events_today": ("今日事件", "Events today"),
    "overview.active_orgs": ("有事件的渠道组织", "Partners with events"),
    "overview.profiles": ("触达消费者", "Consumers reached"),
    "overview.event_types": ("事件类型", "Event types"),
    "overview.chart_title": ("每日事件（按类型）", "Daily events by type"),
    "overview.chart_label": (
        "最近 {days} 天每日事件数的堆叠柱状图",
        "Stacked bar chart of events per day over the last {days} days",
    ),
    "overview.chart_failed": (
        "图表加载失败，请刷新页面。",
        "The chart could not be loaded. Reload the page.",
    ),
    "overview.by_type": ("按类型汇总", "Totals by type"),
    "overview.col_type": ("事件类型", "Event type"),
    "overview.col_code": ("类型代码", "Type code"),
    "overview.col_count": ("数量", "Count"),
    "overview.col_share": ("占比", "Share"),
    "overview.empty_title": ("还没有事件", "No events yet"),
    "overview.empty_hint": (
        "运行 {demo} 载入演示品牌，或运行 {flush} 把发件箱中的事件写入数据仓库。",
        "Run {demo} to load the demo brand, or {flush} to move the outbox's events to the warehouse.",
    ),
    "overview.no_tenant": (
        "平台运营方不属于任何品牌，没有经营数据。",
        "The platform operator belongs to no brand and has no operating data.",
    ),
    "overview.warehouse_unavailable": ("数据仓库暂时不可用", "The warehouse is unavailable"),
    "overview.warehouse_unavailable_hint": (
        "请稍后刷新；如果问题持续出现，请检查 BCONE_WAREHOUSE_URL 与仓库服务。",
        "Reload in a moment; if it persists, check BCONE_WAREHOUSE_URL and the warehouse service.",
    ),
    # The business events every module shares (ARCHITECTURE.md: scan, order, visit); domains
    # register the names of their own event types the same way.
    "event.order.paid": ("订单支付", "Orders paid"),
    "event.code.scanned": ("扫码", "Code scans"),
    "event.store.visited": ("门店拜访", "Store visits"),
}

register_messages(SHELL_MESSAGES)
