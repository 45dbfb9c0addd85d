package dev.checkprop.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/**
 * The {@code checkprop} command line: {@code grad}, {@code plan} and {@code demo}. Errors end the
 * process with exit code 2 and one line naming the problem; the library itself never prints.
 */
@Command(name = "checkprop", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Memory-aware, checkpointed backpropagation through deep networks.",
        subcommands = {GradCommand.class, PlanCommand.class, DemoCommand.class, TrainCommand.class, EvalCommand.class, PredictCommand.class, InitCommand.class, DiagnoseCommand.class, HvpCommand.class,
                ImportTorchCommand.class, ExportTorchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    /** Exit code for bad input or a failed run. */
    static final int EXIT_ERROR = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: demo, train, eval, grad or plan");
    }

    /**
     * {@code --version}: the POM's version, which Maven writes into {@code version.properties} beside
     * this class when it copies the resources.
     */
    public static final class Version implements CommandLine.IVersionProvider {

        @Override
        public String[] getVersion() {
            return new String[] {"checkprop " + version()};
        }
    }

    /** Answers the version this build was made from (the POM's), or "unknown" outside a Maven build. */
    static String version() {
        try (java.io.InputStream in = Main.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                return "unknown";
            }
            java.util.Properties p = new java.util.Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown");
            return v.startsWith("${") ? "unknown" : v;
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams and answers the exit code (for tests). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        // One short line per log record (the kernel choice), not java.util.logging's two-line default.
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%4$s: %5$s%n");
        }
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("checkprop: " + describe(ex) + " (see --help)");
            return EXIT_ERROR;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            err.println("checkprop: " + describe(ex));
            return EXIT_ERROR;
        });
        int code;
        try {
            code = cl.execute(args);
        } catch (OutOfMemoryError e) {
            // The pre-flight checks should have refused the run with figures; this is the last line of
            // defence, and it still owes the user one line rather than a stack trace.
            out.flush();
            err.println("checkprop: out of memory (-Xmx " + dev.checkprop.memory.HeapBudget.human(Runtime.getRuntime().maxMemory())
                    + "): " + e.getMessage() + "; give the JVM a larger -Xmx or the command a smaller problem");
            code = EXIT_ERROR;
        } catch (StackOverflowError e) {
            err.println("checkprop: the input is nested too deeply (stack overflow)");
            code = EXIT_ERROR;
        }
        out.flush();
        err.flush();
        return code;
    }

    /**
     * One line for a failure: the message, with the file named where Java's own I/O exceptions give
     * only a path or only a reason.
     */
    static String describe(Throwable ex) {
        String msg;
        if (ex instanceof java.nio.file.FileSystemException f && f.getFile() != null) {
            msg = f.getFile() + (f.getOtherFile() != null ? " -> " + f.getOtherFile() : "") + ": "
                    + dev.checkprop.io.AtomicFiles.reason(f);
        } else if (ex.getMessage() == null || ex.getMessage().isBlank()) {
            msg = ex.getClass().getSimpleName();
        } else {
            msg = ex.getMessage();
        }
        return msg.replace('\n', ' ').replace('\r', ' ');
    }
}
