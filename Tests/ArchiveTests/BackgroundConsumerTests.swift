import Archive
import Checksum
import Testing

@Suite("background consumer")
struct BackgroundConsumerTests {
  @Test("the consumer sees every byte in order, big sends split, whatever the depth", arguments: [2, 3, 8])
  func order(depth: Int) {
    let data = ArchiveTestSupport.sample(count: 1_000_003, text: false)
    let consumer = BackgroundConsumer(state: SHA256Hasher(), depth: depth, bufferSize: 4096) { hasher, bytes in
      hasher.update(bytes)
    }
    var offset = 0
    var size = 1
    while offset < data.count {
      let end = min(offset + size, data.count)
      consumer.send(Array(data[offset..<end]).span)
      offset = end
      size = size * 3 % 20_011 + 1
    }
    #expect(
      consumer.finish().finalize()
        == {
          var h = SHA256Hasher()
          h.update(data)
          return h.finalize()
        }())
  }

  @Test("finishing with nothing sent returns the initial state")
  func empty() {
    let consumer = BackgroundConsumer(state: 41) { count, bytes in count += bytes.count }
    #expect(consumer.finish() == 41)
  }
}
