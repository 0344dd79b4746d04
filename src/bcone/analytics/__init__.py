"""Analytics: operating dashboard, funnels, retention, RFM, lifetime value, NPS, attribution."""
