"""Progress aggregation for leadership and flat exports for BI tools."""
