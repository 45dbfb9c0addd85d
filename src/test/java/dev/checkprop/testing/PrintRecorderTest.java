package dev.checkprop.testing;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;
import java.util.logging.StreamHandler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The recording behind {@link NoPrintingExtension}, on stand-in streams: nothing here prints. */
class PrintRecorderTest {

    /** A stand-in for System.out or System.err: a settable stream whose original writes to memory. */
    private static final class Fake {
        final ByteArrayOutputStream console = new ByteArrayOutputStream();
        final PrintStream original = new PrintStream(console, true, Charset.defaultCharset());
        PrintStream current = original;

        PrintRecorder.Slot slot(String name) {
            return new PrintRecorder.Slot(name, () -> current, s -> current = s);
        }

        String printed() {
            return console.toString(Charset.defaultCharset());
        }
    }

    private final Fake out = new Fake();
    private final Fake err = new Fake();
    private final PrintRecorder recorder = new PrintRecorder(out.slot("System.out"), err.slot("System.err"));

    @Test
    void aTestThatPrintsIsReportedWithItsNameAndFirstLineAndTheOutputStillReachesTheConsole() {
        PrintRecorder.Capture c = recorder.begin("a.B.prints()");
        assertNotSame(out.original, out.current, "installed");
        assertTrue(recorder.installed());
        out.current.println();
        out.current.printf("teacher: loss %.3f%n", 0.25);
        out.current.println("second line");
        String report = c.end();
        assertEquals("a.B.prints() printed " + (30 + 3 * System.lineSeparator().length()) + " bytes, first to System.out: tests must not print (put figures in"
                + " assertion messages, capture a child JVM's output); first line: \"teacher: loss 0.250\"", report);
        assertSame(out.original, out.current, "restored");
        assertSame(err.original, err.current, "restored");
        assertEquals(System.lineSeparator() + "teacher: loss 0.250" + System.lineSeparator() + "second line"
                + System.lineSeparator(), out.printed());
    }

    @Test
    void aTestThatPrintsNothingPassesAndEndingTwiceIsHarmless() {
        PrintRecorder.Capture c = recorder.begin("quiet");
        assertNull(c.end());
        assertNull(c.end());
        assertSame(out.original, out.current);
    }

    @Test
    void theErrorStreamCountsAndAStackTraceIsPrintingToo() {
        PrintRecorder.Capture c = recorder.begin("err");
        new IllegalStateException("boom").printStackTrace(err.current);
        String report = c.end();
        assertTrue(report.startsWith("err printed "), report);
        assertTrue(report.contains("first to System.err"), report);
        assertTrue(report.endsWith("first line: \"java.lang.IllegalStateException: boom\""), report);
    }

    @Test
    void loggingOnTheErrorStreamIsAllowedButNotOnTheOutputStream() {
        PrintRecorder.Capture c = recorder.begin("logs");
        StreamHandler toErr = new StreamHandler(err.current, new SimpleFormatter());
        toErr.publish(new LogRecord(Level.INFO, "checkprop: Vector API kernels"));
        toErr.flush();
        assertTrue(err.printed().contains("INFO: checkprop: Vector API kernels"), err.printed());
        assertEquals(0, c.bytes(), "a logging handler's record on System.err");
        StreamHandler toOut = new StreamHandler(out.current, new SimpleFormatter());
        toOut.publish(new LogRecord(Level.INFO, "on stdout"));
        toOut.flush();
        assertTrue(c.bytes() > 0, "a logging handler's record on System.out");
        assertTrue(c.end().contains("first to System.out"));
    }

    @Test
    void aClassCaptureSeesOnlyWhatIsPrintedOutsideItsTests() {
        PrintRecorder.Capture cls = recorder.begin("a.B");
        out.current.print("static init\n");
        PrintRecorder.Capture test = recorder.begin("a.B.t()");
        out.current.print("in the test\n");
        assertTrue(test.end().endsWith("\"in the test\""));
        assertNotSame(out.original, out.current, "still installed for the class");
        out.current.print("after all\n");
        String report = cls.end();
        assertTrue(report.startsWith("a.B printed 22 bytes"), report);
        assertTrue(report.endsWith("\"static init\""), report);
        assertSame(out.original, out.current);
    }

    @Test
    void anotherThreadsOutputGoesToTheInnermostCaptureOfEachThread() throws InterruptedException {
        PrintRecorder.Capture cls = recorder.begin("a.B");
        PrintRecorder.Capture test = recorder.begin("a.B.t()");
        Thread worker = new Thread(() -> out.current.print("from a worker\n"));
        worker.start();
        worker.join();
        assertEquals(14, test.bytes());
        assertEquals(0, cls.bytes());
        assertTrue(test.end().endsWith("\"from a worker\""));
        assertNull(cls.end());
    }

    @Test
    void aStreamKeptAfterTheTestStillWritesThroughAndRecordsNothing() {
        PrintRecorder.Capture c = recorder.begin("keeps");
        PrintStream kept = out.current; // as a logging handler created during a test would
        assertNull(c.end());
        kept.print("later\n");
        assertEquals("later\n", out.printed());
        PrintRecorder.Capture next = recorder.begin("next");
        out.current = kept; // a stale stream put back: installing again must not write to itself
        recorder.begin("nested").end();
        kept.print("x");
        assertEquals(1, next.bytes());
        assertTrue(next.end().endsWith("\"x\""));
        assertSame(out.original, out.current);
        assertEquals("later\nx", out.printed());
    }

    @Test
    void onlyTheStartOfLongOutputIsKeptButAllOfItIsCounted() {
        PrintRecorder.Capture c = recorder.begin("long");
        String line = "y".repeat(300);
        for (int i = 0; i < 100; i++) {
            out.current.print(line + "\n");
        }
        String report = c.end();
        assertTrue(report.startsWith("long printed 30100 bytes"), report);
        assertTrue(report.endsWith("\"" + "y".repeat(200) + "...\""), report);
    }
}
