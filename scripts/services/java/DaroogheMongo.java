import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.ServerVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

/**
 * Launches mongo-java-server as a stand-in for mongod on a loopback port.
 * Usage: DaroogheMongo HOST PORT memory|h2 [H2_FILE]
 * The wire version is pinned to 5.0 because the current Node driver refuses older servers.
 */
public final class DaroogheMongo {
  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: DaroogheMongo HOST PORT memory|h2 [H2_FILE]");
      System.exit(2);
    }
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    MongoBackend backend;
    if (args[2].equals("h2")) {
      if (args.length < 4) {
        System.err.println("h2 backend needs a file path");
        System.exit(2);
      }
      backend = new H2Backend(args[3]);
    } else {
      backend = new MemoryBackend();
    }
    backend.version(ServerVersion.MONGO_5_0);
    MongoServer server = new MongoServer(backend);
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdown));
    server.bind(host, port);
    System.out.println("darooghe-mongo listening on " + host + ":" + port + " backend=" + args[2]);
    Thread.currentThread().join();
  }
}
