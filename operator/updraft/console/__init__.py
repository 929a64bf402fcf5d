"""The console: web pages for people, served by the API process under /ui.

Layers inside: `layout` (the graph's layered layout), `graph` (SVG), `pages` (HTML), `params`
(the start form) and `sessions` are pure; `routes` is the aiohttp side (a task attempt's log is
read by the API's logs reader, api/logs.py). It reads only through the API
(`ApiServer.invoke`, the service's reads), so every page is authorized and audited as the MWAA
operation it amounts to. Static assets are the project's own (static/, Apache-2.0): no CDN, no
JavaScript build."""
