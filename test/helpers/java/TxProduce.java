import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Runs a script of Kafka transactions with the Java client: the reference transactional
 * producer of the interop tests. Usage: TxProduce BROKERS TOPIC TXID_PREFIX FILE, where each
 * line of FILE is "NAME begin", "NAME send PARTITION KEY VALUE" (KEY and VALUE base64, "-" for
 * null), "NAME commit" or "NAME abort". NAME picks a producer (transactional.id
 * TXID_PREFIX-NAME), created on first use, so two producers' transactions can interleave in one
 * partition. Every send waits for its acknowledgement, which keeps the order of the script.
 */
public class TxProduce {
  public static void main(String[] args) throws Exception {
    Map<String, KafkaProducer<byte[], byte[]>> producers = new HashMap<>();
    Base64.Decoder b64 = Base64.getDecoder();
    List<String> lines = Files.readAllLines(Path.of(args[3]));
    int committed = 0;
    int aborted = 0;
    try {
      for (String line : lines) {
        if (line.isBlank()) continue;
        String[] f = line.split(" ", -1);
        KafkaProducer<byte[], byte[]> producer = producers.get(f[0]);
        if (producer == null) {
          Properties p = new Properties();
          p.put("bootstrap.servers", args[0]);
          p.put("transactional.id", args[2] + "-" + f[0]);
          p.put("linger.ms", "0");
          p.put("key.serializer", ByteArraySerializer.class.getName());
          p.put("value.serializer", ByteArraySerializer.class.getName());
          producer = new KafkaProducer<>(p);
          producer.initTransactions();
          producers.put(f[0], producer);
        }
        switch (f[1]) {
          case "begin" -> producer.beginTransaction();
          case "send" -> {
            byte[] key = f[3].equals("-") ? null : b64.decode(f[3]);
            byte[] value = f[4].equals("-") ? null : b64.decode(f[4]);
            producer.send(new ProducerRecord<>(args[1], Integer.parseInt(f[2]), key, value)).get();
          }
          case "commit" -> {
            producer.commitTransaction();
            committed++;
          }
          case "abort" -> {
            producer.abortTransaction();
            aborted++;
          }
          default -> throw new IllegalArgumentException("unknown command in line: " + line);
        }
      }
    } finally {
      for (KafkaProducer<byte[], byte[]> producer : producers.values()) producer.close();
    }
    System.out.println("committed " + committed + " aborted " + aborted);
  }
}
