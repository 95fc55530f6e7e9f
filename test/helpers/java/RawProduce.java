import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Produces records with the Java client, byte for byte: the reference producer of the interop
 * tests. Usage: RawProduce BROKERS TOPIC FILE, where each line of FILE is
 * "PARTITION KEY VALUE": KEY and VALUE base64, or "-" for null.
 */
public class RawProduce {
  public static void main(String[] args) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", args[0]);
    p.put("acks", "all");
    p.put("enable.idempotence", "true");
    p.put("linger.ms", "0");
    p.put("key.serializer", ByteArraySerializer.class.getName());
    p.put("value.serializer", ByteArraySerializer.class.getName());
    List<String> lines = Files.readAllLines(Path.of(args[2]));
    Base64.Decoder b64 = Base64.getDecoder();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
      for (String line : lines) {
        if (line.isBlank()) continue;
        String[] f = line.split(" ", -1);
        byte[] key = f[1].equals("-") ? null : b64.decode(f[1]);
        byte[] value = f[2].equals("-") ? null : b64.decode(f[2]);
        producer.send(new ProducerRecord<>(args[1], Integer.parseInt(f[0]), key, value)).get();
      }
    }
    System.out.println("produced " + lines.size());
  }
}
