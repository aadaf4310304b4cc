-- The cost of starting faultline run: one trivial test.
it("does nothing", function() end)
