public let testSupportVersion = 1
