"""One item, one code: batches, serials, GS1 Digital Link, QR, packing, shipping, authenticity, diversion."""
