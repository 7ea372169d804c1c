/*
 * task.c - one piece of service work on its own thread.
 *
 * A task runs fn(task, arg) once. fn fills a state its screen owns (under that
 * state's lock when the screen reads it meanwhile), never touches curses, and
 * may look at task->stop between requests to end early. When fn returns, the
 * task marks itself done and writes one byte to the self-pipe so the UI loop
 * wakes up at once instead of at the next tick.
 */
#include <errno.h>
#include <unistd.h>

#include "tui.h"

static void *task_main(void *p)
{
    struct tui_task *task = p;
    char c = 't';

    task->rc = task->fn(task, task->arg);
    atomic_store(&task->done, 1);
    if (write(task->wake_fd, &c, 1) < 0) {
        /* a full pipe already holds a wake-up; the tick looks anyway */
    }
    return NULL;
}

int tui_task_start(struct tui_task *task, int (*fn)(struct tui_task *, void *), void *arg, int wake_fd)
{
    int rc;

    if (task->running)
        return EBUSY;
    atomic_store(&task->done, 0);
    atomic_store(&task->stop, 0);
    task->fn = fn;
    task->arg = arg;
    task->wake_fd = wake_fd;
    task->rc = 0;
    rc = pthread_create(&task->thread, NULL, task_main, task);
    if (rc)
        return rc;
    task->running = 1;
    return 0;
}

int tui_task_finished(struct tui_task *task)
{
    return task->running && atomic_load(&task->done);
}

int tui_task_join(struct tui_task *task)
{
    if (!task->running)
        return 0;
    atomic_store(&task->stop, 1);
    pthread_join(task->thread, NULL);
    task->running = 0;
    return task->rc;
}
