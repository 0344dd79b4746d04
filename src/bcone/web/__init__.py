"""The console shell: layout, navigation, static assets, interface language, the overview.

What domains use: :func:`bcone.web.templating.render`, ``flash`` and ``redirect_to``;
:data:`bcone.web.deps.ConsolePrincipal` and ``safe_next``; :func:`bcone.web.i18n.register_messages`;
:func:`bcone.web.nav.register_nav_item`; the macros in ``templates/macros.html``.
"""
