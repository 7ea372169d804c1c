/*
 * run.h - one sync started from the console, from preparing the index to
 * restoring its settings; the progress screen shows it.
 *
 * Phases: STARTING (a task prepares the index, applies fast-load settings
 * and calls sync_start, which connects to both services), RUNNING (the
 * pipeline's own threads; the UI only reads sync_snapshot and sends
 * controls), FINISHING (a task joins the run and restores the index
 * settings), ENDED (final counters and status, kept for the result panel).
 * Only the UI thread calls these functions.
 */
#ifndef DDB2ES_TUI_RUN_H
#define DDB2ES_TUI_RUN_H

#include "ddb2es/pipeline.h"
#include "ddb2es/target.h"
#include "tui.h"

enum tui_run_phase { TUI_RUN_STARTING, TUI_RUN_RUNNING, TUI_RUN_FINISHING, TUI_RUN_ENDED };

struct tui_run {
    /* what runs: copies, so the run owns every string its options borrow */
    char env[128], table[256], index[256], entity[128];
    struct sync_options so;
    char dl_path[4096];
    char fl_state[4200];           /* fast-load state file: the dead-letter path + ".settings" */
    int fast_load;
    const struct tui_session *ses; /* borrowed: outlives the run */
    /* the task of the STARTING and FINISHING phases; its results are read after join */
    struct tui_task task;
    struct sync_job *job;
    struct target_fast_load fl;
    char index_note[1024];         /* what preparing the index found or did */
    int index_differs;             /* the index exists with another mapping */
    int rc;                        /* final status: DDB2ES_OK, _CANCELLED or the error */
    struct ddb2es_error err;       /* why it did not start, or the run's fatal error */
    int restore_rc;                /* restoring the fast-load settings */
    struct ddb2es_error restore_err;
    /* UI thread */
    enum tui_run_phase phase;
    int started;                   /* sync_start succeeded (the run has counters) */
    int cancel_asked;              /* cancel before the job existed: applied once it does */
    int abort_asked;
    struct sync_snapshot snap;     /* the latest copy */
    long rate;                     /* documents per second, 0: unlimited */
};

/* Fills the run from the console's choices (copied). */
void tui_run_init(struct tui_run *r, const struct tui *t);
/* Starts the STARTING task. Non-zero when no thread could be started (err set). */
int tui_run_begin(struct tui_run *r, int wake_fd);
/* Moves the phases on; sets *job_fd when the run starts. Returns 1 when the phase changed. */
int tui_run_step(struct tui_run *r, int wake_fd, int *job_fd);
/* Controls, applied now or as soon as the job exists. */
void tui_run_cancel(struct tui_run *r);
void tui_run_abort(struct tui_run *r);
void tui_run_pause(struct tui_run *r);
/* Moves the rate limit one step up (+1) or down (-1) a ladder of round numbers. */
void tui_run_rate_step(struct tui_run *r, int dir);
/* True once the run can no longer change anything. */
int tui_run_ended(const struct tui_run *r);
/* The exit state of a finished run, as the headless command would report it: "done" ... */
const char *tui_run_outcome(const struct tui_run *r, int *exit_code);
/* The result panel's text. */
void tui_run_result_text(const struct tui_run *r, char *out, size_t outsz);
/* Joins what still runs and frees the job. */
void tui_run_free(struct tui_run *r);

#endif
