package dev.checkprop.tier;

import dev.checkprop.plan.Tier;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Disk slots: one spill file in a {@link SpillDirectory}, the slots at fixed offsets in it, written
 * and read through a {@link FileChannel} by positional I/O via one direct staging buffer.
 *
 * <p>Why a channel and not a memory-mapped file: a write to a mapping that the file system cannot
 * back (a full disk) faults in the JVM as an {@code InternalError} at an arbitrary later access, while
 * a channel write fails right there with an {@link IOException} naming the cause ("No space left on
 * device"), which becomes one clean error. The staging buffer (at most {@value #STAGING_BYTES} bytes)
 * is the only memory this tier takes, off the heap; the file is sized once to the slots' bytes (sparse:
 * blocks are given as they are written, which is why the pre-flight checks the free space).
 */
public final class DiskSlots extends TierSlots {

    /** The largest staging buffer: big enough that a copy is a few large system calls. */
    public static final int STAGING_BYTES = 4 << 20;

    /** Name of the spill file in its run directory. */
    static final String FILE = "disk-slots.bin";

    private final Path file;
    private final long[] offset;
    private FileChannel channel;
    private ByteBuffer staging;
    private FloatBuffer stagingFloats;

    /**
     * Creates the spill file in {@code dir} and sizes it.
     *
     * @param capacity floats of each slot
     * @throws IOException if the file cannot be created or sized
     */
    public DiskSlots(SpillDirectory dir, long[] capacity) throws IOException {
        super(capacity);
        this.file = dir.newFile(FILE);
        offset = new long[capacity.length];
        long end = 0;
        long largest = 0;
        for (int s = 0; s < capacity.length; s++) {
            offset[s] = end;
            end += 4 * capacity[s];
            largest = Math.max(largest, 4 * capacity[s]);
        }
        staging = ByteBuffer.allocateDirect((int) Math.max(4, Math.min(STAGING_BYTES, largest)))
                .order(ByteOrder.nativeOrder());
        stagingFloats = staging.asFloatBuffer();
        channel = open(file);
        try {
            if (end > 0) {
                // One byte at the end sizes the file (sparse); from the staging buffer, because a heap
                // buffer would make the channel allocate a temporary direct one, outside the accounting.
                staging.clear().limit(1);
                staging.put(0, (byte) 0);
                while (staging.hasRemaining()) {
                    channel.write(staging, end - 1);
                }
            }
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    /**
     * Opens the spill file; a test replaces it (package-private) to make the channel fail as a full
     * disk does, which no test can arrange portably with a real file system.
     */
    static volatile ChannelOpener opener = p -> FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
            StandardOpenOption.WRITE);

    /** How the spill file's channel is opened. */
    interface ChannelOpener {
        FileChannel open(Path p) throws IOException;
    }

    private static FileChannel open(Path p) throws IOException {
        return opener.open(p);
    }

    /** Answers the bytes of the staging buffer, off the heap. */
    public long stagingBytes() {
        return staging == null ? 0 : staging.capacity();
    }

    /** Answers the spill file. */
    public Path file() {
        return file;
    }

    @Override
    public Tier tier() {
        return Tier.DISK;
    }

    @Override
    public String where() {
        return file.toString();
    }

    @Override
    void write(int slot, long off, float[] src, int len) throws IOException {
        checkRange(slot, off, len);
        final int chunk = staging.capacity() / 4;
        long pos = offset[slot] + 4 * off;
        for (int done = 0; done < len; ) {
            final int n = Math.min(chunk, len - done);
            stagingFloats.put(0, src, done, n);
            staging.clear().limit(4 * n);
            while (staging.hasRemaining()) {
                pos += channel.write(staging, pos);
            }
            done += n;
        }
    }

    @Override
    void read(int slot, long off, float[] dst, int len) throws IOException {
        checkRange(slot, off, len);
        final int chunk = staging.capacity() / 4;
        long pos = offset[slot] + 4 * off;
        for (int done = 0; done < len; ) {
            final int n = Math.min(chunk, len - done);
            staging.clear().limit(4 * n);
            while (staging.hasRemaining()) {
                final int r = channel.read(staging, pos);
                if (r < 0) {
                    throw new IOException("the spill file ended at byte " + pos + " (was it truncated by someone else?)");
                }
                pos += r;
            }
            stagingFloats.get(0, dst, done, n);
            done += n;
        }
    }

    @Override
    public void close() {
        if (channel == null) {
            return;
        }
        try {
            channel.close();
        } catch (IOException e) {
            // Closing a file we only wrote to: nothing to keep; the directory's close deletes it.
        }
        channel = null;
        DirectMemory.free(staging);
        staging = null;
        stagingFloats = null;
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // The run directory's close and shutdown hook, or the next run's sweep, delete it.
        }
    }
}
