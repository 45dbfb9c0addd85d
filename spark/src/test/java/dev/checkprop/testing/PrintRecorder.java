package dev.checkprop.testing;
// Copied from the root module (src/test/java/dev/checkprop/testing): the same no-printing discipline for the Spark tests.

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Records what is printed to two process streams (System.out and System.err, or stand-ins in tests)
 * while captures are open: the logic of {@link NoPrintingExtension}, kept apart so that it can be
 * tested without printing.
 *
 * <p>The first capture to open installs a recording stream in each slot, remembering what was
 * there; the last to close puts it back. So with tests run one after another (surefire's default, and
 * this project's: no parallel execution is configured) the streams are swapped for each test and
 * restored after it; with JUnit's parallel execution enabled they are swapped while any test runs.
 * A recording stream writes everything through to the stream it replaced, so nothing printed is
 * lost and a stream a library kept while a test ran (a logging handler, say) still works after it.
 *
 * <p>Whose output is it: a write is recorded by the innermost open capture of the writing thread
 * (a test's, within its class's); a write from a thread with no capture (a worker pool's) by the
 * innermost capture of every thread, as it cannot be told apart. Each capture keeps the first
 * {@value #KEPT} bytes it records, and counts all of them.
 *
 * <p>On the error stream, records published by {@code java.util.logging} (the backend of
 * {@link System.Logger}: the kernel choice's INFO line, JUnit's own warnings) are written through but
 * not recorded: logging is the channel for diagnostics, configurable and off the test's output.
 * Everything else on it is: a stray {@code printStackTrace()} is printing too. (What the JVM itself
 * writes to file descriptor 2, e.g. the incubator module warning, never passes through System.err.)
 */
public final class PrintRecorder {

    /** Bytes of output each capture keeps for its report. */
    static final int KEPT = 4096;

    /** A settable stream: System.out, System.err, or a stand-in. */
    public record Slot(String name, Supplier<PrintStream> get, Consumer<PrintStream> set) {

        /** System.out. */
        public static Slot systemOut() {
            return new Slot("System.out", () -> System.out, System::setOut);
        }

        /** System.err. */
        public static Slot systemErr() {
            return new Slot("System.err", () -> System.err, System::setErr);
        }
    }

    private final Tap[] taps;
    private final List<Capture> open = new ArrayList<>(); // in opening order

    /**
     * @param out a slot any write to which is recorded
     * @param err a slot whose writes are recorded unless {@code java.util.logging} publishes them
     */
    public PrintRecorder(Slot out, Slot err) {
        this.taps = new Tap[] {new Tap(out, false), new Tap(err, true)};
    }

    /** Opens a capture named {@code name}, owned by the calling thread. */
    public Capture begin(String name) {
        synchronized (this) {
            if (open.isEmpty()) {
                for (Tap t : taps) {
                    t.install();
                }
            }
            final Capture c = new Capture(name, Thread.currentThread());
            open.add(c);
            return c;
        }
    }

    /** Whether both slots hold this recorder's streams now. */
    boolean installed() {
        synchronized (this) {
            for (Tap t : taps) {
                if (t.slot.get().get() != t.recording) {
                    return false;
                }
            }
            return true;
        }
    }

    private void close(Capture c) {
        synchronized (this) {
            if (open.remove(c) && open.isEmpty()) {
                for (Tap t : taps) {
                    t.restore();
                }
            }
        }
    }

    /** Records bytes written to {@code tap}'s slot by the current thread, unless exempt. */
    private void record(Tap tap, byte[] b, int off, int len) {
        synchronized (this) {
            if (open.isEmpty()) {
                return;
            }
            final Thread me = Thread.currentThread();
            for (int i = open.size() - 1; i >= 0; i--) {
                if (open.get(i).owner == me) {
                    open.get(i).add(tap, b, off, len);
                    return;
                }
            }
            for (int i = 0; i < open.size(); i++) {
                if (isInnermostOfItsThread(i)) {
                    open.get(i).add(tap, b, off, len);
                }
            }
        }
    }

    private boolean isInnermostOfItsThread(int i) {
        for (int k = i + 1; k < open.size(); k++) {
            if (open.get(k).owner == open.get(i).owner) {
                return false;
            }
        }
        return true;
    }

    /** Whether the calling thread is inside java.util.logging (a handler publishing a record). */
    private static boolean loggingIsWriting() {
        return StackWalker.getInstance().walk(s -> s.anyMatch(f -> f.getClassName().startsWith("java.util.logging.")));
    }

    /** One slot: its recording stream, and the stream it replaced while installed. */
    private final class Tap extends OutputStream {
        private final Slot slot;
        private final boolean exemptLogging;
        private final PrintStream recording;
        private volatile PrintStream replaced;

        Tap(Slot slot, boolean exemptLogging) {
            this.slot = slot;
            this.exemptLogging = exemptLogging;
            this.recording = new PrintStream(this, true, Charset.defaultCharset());
            this.replaced = slot.get().get();
        }

        void install() {
            final PrintStream current = slot.get().get();
            if (current != recording) { // else someone put a stale reference back: keep what it replaced
                replaced = current;
            }
            slot.set().accept(recording);
        }

        void restore() {
            slot.set().accept(replaced);
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            replaced.write(b, off, len);
            if (len > 0 && !(exemptLogging && loggingIsWriting())) {
                record(this, b, off, len);
            }
        }

        @Override
        public void flush() {
            replaced.flush();
        }
    }

    /** What one test (or class) printed while it ran. */
    public final class Capture {
        private final String name;
        private final Thread owner;
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private long bytes;
        private String firstSlot;
        private boolean closed;

        private Capture(String name, Thread owner) {
            this.name = name;
            this.owner = owner;
        }

        /** Answers the name it was opened with. */
        public String name() {
            return name;
        }

        private void add(Tap tap, byte[] b, int off, int len) {
            if (firstSlot == null) {
                firstSlot = tap.slot.name();
            }
            bytes += len;
            kept.write(b, off, Math.min(len, KEPT - kept.size()));
        }

        /**
         * Closes it (restoring the streams if it was the last open) and answers what it recorded:
         * {@code null} if nothing, else a message naming it, the stream first written, the bytes and
         * the first line printed.
         */
        public String end() {
            synchronized (PrintRecorder.this) {
                if (!closed) {
                    closed = true;
                    close(this);
                }
                if (bytes == 0) {
                    return null;
                }
                return name + " printed " + bytes + " bytes, first to " + firstSlot + ": tests must not print"
                        + " (put figures in assertion messages, capture a child JVM's output); first line: "
                        + firstLine();
            }
        }

        /** Answers the bytes recorded so far. */
        public long bytes() {
            synchronized (PrintRecorder.this) {
                return bytes;
            }
        }

        /** Answers the first line recorded that is not blank, quoted and cut at 200 characters. */
        String firstLine() {
            for (String line : kept.toString(Charset.defaultCharset()).split("\\R")) {
                if (!line.isBlank()) {
                    return '"' + (line.length() > 200 ? line.substring(0, 200) + "..." : line) + '"';
                }
            }
            return "(blank lines only)";
        }
    }
}
