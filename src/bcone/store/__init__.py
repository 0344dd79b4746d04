"""Cloud stores: storefronts, share links and commissions, orders, stock, payments, fulfilment."""
