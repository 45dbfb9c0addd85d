package dev.checkprop.spark;

import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Loss;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The per-JVM cache of an executor: each shard's {@link ShardState} (rows, network copy, plan and
 * executor) for the current session, and the rows read, keyed by file and range, so that a shard
 * is read once per JVM and reused by every later job and session on the same data. When a task of
 * a new session arrives, the states of other sessions are closed and rows no state uses dropped:
 * one checkprop session per executor JVM at a time.
 */
final class ShardCache {

    private static final Map<String, ShardState> STATES = new ConcurrentHashMap<>();
    private static final Map<String, Batch> ROWS = new ConcurrentHashMap<>();
    private static volatile String current;

    private ShardCache() {
    }

    /** Answers shard j's state for {@code s}, creating it (and evicting other sessions) on first use. */
    static ShardState state(Session s, int j, byte[] model, java.util.Iterator<?> rdd) throws IOException {
        synchronized (ShardCache.class) {
            if (!s.id().equals(current)) {
                evictAllBut(s.id());
                current = s.id();
            }
        }
        try {
            return STATES.computeIfAbsent(s.id() + "/" + j, k -> {
                try {
                    return ShardState.create(s, j, model, rdd);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static void evictAllBut(String id) {
        STATES.entrySet().removeIf(e -> {
            if (e.getKey().startsWith(id + "/")) {
                return false;
            }
            e.getValue().close();
            return true;
        });
    }

    /** Closes every state of session {@code id} in this JVM (the driver's end of a local session). */
    static void release(String id) {
        STATES.entrySet().removeIf(e -> {
            if (!e.getKey().startsWith(id + "/")) {
                return false;
            }
            e.getValue().close();
            return true;
        });
        if (STATES.isEmpty()) {
            ROWS.clear();
        }
    }

    /** Answers rows {@code from..to-1} of a data file for {@code loss}, read once per JVM. */
    static Batch rows(ShardData data, int from, int to, Loss loss, String name) throws IOException {
        String key = data.key() + "#" + from + ".." + to + "#" + loss.cliName();
        Batch b = ROWS.get(key);
        if (b == null) {
            b = data.read(from, to, loss, name);
            ROWS.put(key, b);
        }
        return b;
    }

    /** Answers how many shard states this JVM holds (for tests). */
    static int size() {
        return STATES.size();
    }
}
