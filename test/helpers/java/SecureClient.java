import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The Java client configured by nothing but a client properties file (as scripts/services.sh
 * writes it), as the reference client of the security tests.
 *
 * Usage: SecureClient FILE produce TOPIC KEY=VALUE...   (acks=all, in order, to partition 0)
 *        SecureClient FILE consume TOPIC COUNT          (from the beginning; prints KEY=VALUE lines)
 */
public class SecureClient {
  public static void main(String[] args) throws Exception {
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(Path.of(args[0]))) {
      p.load(in);
    }
    String topic = args[2];
    if (args[1].equals("produce")) {
      p.put("acks", "all");
      p.put("key.serializer", StringSerializer.class.getName());
      p.put("value.serializer", StringSerializer.class.getName());
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
        for (int i = 3; i < args.length; i++) {
          String[] kv = args[i].split("=", 2);
          producer.send(new ProducerRecord<>(topic, 0, kv[0], kv[1])).get();
        }
      }
      System.out.println("produced " + (args.length - 3));
      return;
    }
    int count = Integer.parseInt(args[3]);
    p.put("group.id", "java-secure-" + UUID.randomUUID());
    p.put("auto.offset.reset", "earliest");
    p.put("enable.auto.commit", "false");
    p.put("key.deserializer", StringDeserializer.class.getName());
    p.put("value.deserializer", StringDeserializer.class.getName());
    StringBuilder out = new StringBuilder();
    int seen = 0;
    long deadline = System.currentTimeMillis() + 60_000;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
      consumer.subscribe(List.of(topic));
      while (seen < count && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          out.append(r.key()).append('=').append(r.value()).append('\n');
          seen++;
        }
      }
    }
    System.out.write(out.toString().getBytes(StandardCharsets.UTF_8));
    System.out.flush();
    if (seen < count) {
      System.err.println("read " + seen + " of " + count + " records within 60 s");
      System.exit(1);
    }
  }
}
