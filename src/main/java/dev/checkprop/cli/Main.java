package dev.checkprop.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/**
 * The {@code checkprop} command line: {@code grad}, {@code plan} and {@code demo}. Errors end the
 * process with exit code 2 and one line naming the problem; the library itself never prints.
 */
@Command(name = "checkprop", mixinStandardHelpOptions = true, version = "checkprop 0.1.0",
        description = "Memory-aware, checkpointed backpropagation through deep networks.",
        subcommands = {GradCommand.class, PlanCommand.class, DemoCommand.class, TrainCommand.class, EvalCommand.class, InitCommand.class, DiagnoseCommand.class, HvpCommand.class,
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
            err.println("checkprop: " + ex.getMessage() + " (see --help)");
            return EXIT_ERROR;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            String msg = ex.getMessage() == null ? ex.toString() : ex.getMessage();
            err.println("checkprop: " + msg);
            return EXIT_ERROR;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }
}
