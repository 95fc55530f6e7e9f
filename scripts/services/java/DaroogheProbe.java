import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

/**
 * Readiness probe for the local services: speaks each service's own protocol, so a port
 * held by something else is told apart from the service we expect.
 *
 * Usage: DaroogheProbe kafka|kafka-client|mongo|redis HOST:PORT [WAIT_SECONDS] [PID] [FILE]
 * Exit 0 = the service answered; 1 = nothing answered; 3 = something answered that is not
 * the expected service; 4 = the watched PID exited while waiting.
 *
 * kafka-client reads a Java client properties FILE (security protocol, SASL, trust store) and
 * asks the broker at HOST:PORT through it: the secured listeners are probed with the very file
 * the clients are given. Its last failure is printed on stderr.
 */
public final class DaroogheProbe {
  public static void main(String[] args) throws Exception {
    String kind = args[0];
    String[] hp = args[1].split(":");
    String host = hp[0];
    int port = Integer.parseInt(hp[1]);
    long waitMs = args.length > 2 ? Long.parseLong(args[2]) * 1000 : 0;
    String pid = args.length > 3 && !args[3].isEmpty() ? args[3] : null;
    clientFile = args.length > 4 ? args[4] : null;
    long deadline = System.currentTimeMillis() + waitMs;
    int last = 1;
    while (true) {
      last = probeOnce(kind, host, port);
      if (last == 0 || last == 3) break;
      if (pid != null && !Files.exists(Path.of("/proc", pid))) {
        last = 4;
        break;
      }
      if (System.currentTimeMillis() >= deadline) break;
      Thread.sleep(250);
    }
    if (last != 0 && lastFailure != null) System.err.println(lastFailure);
    System.exit(last);
  }

  static String clientFile;
  static String lastFailure;

  static int probeOnce(String kind, String host, int port) {
    if (!portOpen(host, port)) return 1;
    try {
      switch (kind) {
        case "kafka":
          return kafka(host, port, new Properties());
        case "kafka-client":
          return kafka(host, port, clientProperties());
        case "mongo":
          return mongo(host, port);
        case "redis":
          return redis(host, port);
        default:
          System.err.println("unknown service kind " + kind);
          return 2;
      }
    } catch (Exception e) {
      return 3;
    }
  }

  static boolean portOpen(String host, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 500);
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  /** A real metadata request: the broker must name its cluster and at least one node. */
  static int kafka(String host, int port, Properties p) throws Exception {
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, host + ":" + port);
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
    p.put(AdminClientConfig.RETRIES_CONFIG, "0");
    try (Admin admin = Admin.create(p)) {
      var res = admin.describeCluster(new DescribeClusterOptions().timeoutMs(3000));
      String id = res.clusterId().get(4, TimeUnit.SECONDS);
      int nodes = res.nodes().get(4, TimeUnit.SECONDS).size();
      if (id == null || nodes == 0) return 1;
      System.out.println("kafka cluster " + id + " nodes=" + nodes);
      return 0;
    } catch (Exception e) {
      Throwable root = e;
      while (root.getCause() != null) root = root.getCause();
      lastFailure = root.getClass().getSimpleName() + ": " + root.getMessage();
      // Kafka answers with its own framing; an HTTP server or the like fails differently,
      // but a broker still starting also fails here, so report "not ready" and keep waiting.
      return 1;
    }
  }

  static Properties clientProperties() throws Exception {
    Properties p = new Properties();
    try (var in = Files.newInputStream(Path.of(clientFile))) {
      p.load(in);
    }
    return p;
  }

  /** OP_MSG {isMaster: 1, $db: "admin"}; a MongoDB server answers with maxWireVersion. */
  static int mongo(String host, int port) throws Exception {
    byte[] doc = bson();
    ByteBuffer msg = ByteBuffer.allocate(16 + 4 + 1 + doc.length).order(ByteOrder.LITTLE_ENDIAN);
    msg.putInt(16 + 4 + 1 + doc.length).putInt(1).putInt(0).putInt(2013);
    msg.putInt(0).put((byte) 0).put(doc);
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 1000);
      s.setSoTimeout(2000);
      OutputStream out = s.getOutputStream();
      out.write(msg.array());
      out.flush();
      DataInputStream in = new DataInputStream(s.getInputStream());
      byte[] lenBytes = new byte[4];
      in.readFully(lenBytes);
      int len = ByteBuffer.wrap(lenBytes).order(ByteOrder.LITTLE_ENDIAN).getInt();
      if (len < 21 || len > 1 << 24) return 3;
      byte[] rest = new byte[len - 4];
      in.readFully(rest);
      String text = new String(rest, StandardCharsets.ISO_8859_1);
      if (text.contains("maxWireVersion")) {
        System.out.println("mongo wire protocol answered");
        return 0;
      }
      return 3;
    }
  }

  static byte[] bson() {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.write(0x10); // int32 isMaster: 1 (older servers and stand-ins lack "hello")
    body.writeBytes("isMaster\0".getBytes(StandardCharsets.UTF_8));
    body.writeBytes(new byte[] {1, 0, 0, 0});
    body.write(0x02); // string $db: "admin"
    body.writeBytes("$db\0".getBytes(StandardCharsets.UTF_8));
    body.writeBytes(new byte[] {6, 0, 0, 0});
    body.writeBytes("admin\0".getBytes(StandardCharsets.UTF_8));
    body.write(0);
    byte[] b = body.toByteArray();
    ByteBuffer doc = ByteBuffer.allocate(4 + b.length).order(ByteOrder.LITTLE_ENDIAN);
    doc.putInt(4 + b.length).put(b);
    return doc.array();
  }

  static int redis(String host, int port) throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 1000);
      s.setSoTimeout(2000);
      s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      byte[] buf = new byte[64];
      int n = in.read(buf);
      String reply = n > 0 ? new String(buf, 0, n, StandardCharsets.US_ASCII) : "";
      if (reply.startsWith("+PONG")) return 0;
      // Still loading its append-only file after a restart: Redis, not ready yet.
      if (reply.startsWith("-LOADING")) return 1;
      // A Redis that wants a password still speaks RESP: it is Redis, just not usable.
      if (reply.startsWith("-NOAUTH")) {
        System.err.println("redis answered but requires a password");
        return 3;
      }
      return 3;
    }
  }
}
