import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads topics from the beginning to their end with the Java client, no consumer group:
 * the reference reader of the interop tests. Usage: CommittedConsume BROKERS ISOLATION TOPIC...
 * (ISOLATION read_committed or read_uncommitted). Prints one line per record,
 * "TOPIC PARTITION OFFSET KEY VALUE" (KEY and VALUE base64, "-" for null), and stops once every
 * partition's position reached the end offset of that isolation level (the last stable offset
 * with read_committed).
 */
public class CommittedConsume {
  public static void main(String[] args) {
    Properties p = new Properties();
    p.put("bootstrap.servers", args[0]);
    p.put("isolation.level", args[1]);
    p.put("enable.auto.commit", "false");
    p.put("key.deserializer", ByteArrayDeserializer.class.getName());
    p.put("value.deserializer", ByteArrayDeserializer.class.getName());
    Base64.Encoder b64 = Base64.getEncoder();
    StringBuilder out = new StringBuilder();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (int i = 2; i < args.length; i++) {
        for (PartitionInfo info : consumer.partitionsFor(args[i])) {
          partitions.add(new TopicPartition(info.topic(), info.partition()));
        }
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      long deadline = System.currentTimeMillis() + 60_000;
      while (!partitions.stream().allMatch(tp -> consumer.position(tp) >= ends.get(tp))) {
        if (System.currentTimeMillis() > deadline) throw new IllegalStateException("did not reach " + ends);
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(java.time.Duration.ofMillis(500))) {
          out.append(r.topic()).append(' ').append(r.partition()).append(' ').append(r.offset());
          out.append(' ').append(r.key() == null ? "-" : b64.encodeToString(r.key()));
          out.append(' ').append(r.value() == null ? "-" : b64.encodeToString(r.value())).append('\n');
        }
      }
    }
    System.out.print(out);
  }
}
