/*
 * keys.h - every key of the console, in one table.
 *
 * One X-macro gives the request enum, the key lookup, the hint line at the
 * bottom of each screen and the `?` help overlay, so the help can never
 * disagree with what the keys do (tig's request table). A screen lists the
 * scopes it accepts; a key means the first request of an accepted scope
 * that names it.
 */
#ifndef DDB2ES_TUI_KEYS_H
#define DDB2ES_TUI_KEYS_H

/* Scopes: which screens a key belongs to. */
enum {
    TUI_SCOPE_GLOBAL = 1u << 0,   /* every screen */
    TUI_SCOPE_LIST = 1u << 1,     /* screens with a list of rows */
    TUI_SCOPE_TABLES = 1u << 2,   /* the table picker */
    TUI_SCOPE_TARGET = 1u << 3,   /* index, entity and options */
    TUI_SCOPE_STEP = 1u << 4,     /* screens that lead on to the next step */
    TUI_SCOPE_PREVIEW = 1u << 5,  /* the preview */
    TUI_SCOPE_CONFIRM = 1u << 6,  /* the confirmation */
    TUI_SCOPE_PROGRESS = 1u << 7, /* the running sync */
    TUI_SCOPE_ORPHANS = 1u << 8,  /* the orphans of an index */
    TUI_SCOPE_TEXT = 1u << 9,     /* a text field has the focus (other keys are typed) */
};

#define TUI_CTRL(c) ((c) & 0x1f)
#define TUI_KEY_ESC 27

/*
 * X(REQ, "name", scope, key, other key (0: none), "key label", in the hint line, "help")
 * Keys are curses codes (KEY_UP...) or characters; Enter arrives as '\n'.
 */
#define TUI_KEYS(X)                                                                                             \
    X(HELP, "help", TUI_SCOPE_GLOBAL, '?', KEY_F(1), "?", 1, "this help (any key closes it)")                   \
    X(QUIT, "quit", TUI_SCOPE_GLOBAL, 'q', 0, "q", 1, "quit the console (not while a run is going on)")         \
    X(BACK, "back", TUI_SCOPE_GLOBAL, TUI_KEY_ESC, KEY_LEFT, "Esc", 1, "back to the previous screen")           \
    X(REPAINT, "repaint", TUI_SCOPE_GLOBAL, TUI_CTRL('l'), 0, "^L", 0, "repaint the whole screen")              \
    X(UP, "up", TUI_SCOPE_LIST, KEY_UP, 'k', "Up/k", 0, "previous row")                                         \
    X(DOWN, "down", TUI_SCOPE_LIST, KEY_DOWN, 'j', "Down/j", 0, "next row")                                     \
    X(PGUP, "page up", TUI_SCOPE_LIST, KEY_PPAGE, 'b', "PgUp/b", 0, "one page up")                              \
    X(PGDN, "page down", TUI_SCOPE_LIST, KEY_NPAGE, ' ', "PgDn/Space", 0, "one page down")                      \
    X(HOME, "first", TUI_SCOPE_LIST, KEY_HOME, 'g', "Home/g", 0, "first row")                                   \
    X(END, "last", TUI_SCOPE_LIST, KEY_END, 'G', "End/G", 0, "last row")                                        \
    X(SELECT, "choose", TUI_SCOPE_LIST, '\n', KEY_ENTER, "Enter", 1, "choose or edit the selected row")         \
    X(FILTER, "filter", TUI_SCOPE_TABLES, '/', 0, "/", 1, "filter the tables by name (Esc clears)")             \
    X(RELOAD, "reload", TUI_SCOPE_TABLES, 'r', 0, "r", 1, "list the tables again")                              \
    X(EDIT_INDEX, "index", TUI_SCOPE_TARGET, 'i', 0, "i", 0, "edit the target index name")                      \
    X(ENTITY, "entity", TUI_SCOPE_TARGET, 'e', 0, "e", 0, "choose the entity (how items become documents)")     \
    X(EXT_VERSION, "versions", TUI_SCOPE_TARGET, 'x', 0, "x", 0,                                                \
      "external versions on/off: a document updated meanwhile is not overwritten")                              \
    X(FAST_LOAD, "fast load", TUI_SCOPE_TARGET, 'f', 0, "f", 0,                                                 \
      "fast load on/off: no refresh and no replicas while loading, restored after")                             \
    X(NEXT, "next", TUI_SCOPE_STEP, 'n', KEY_RIGHT, "n", 1, "go on to the next step")                           \
    X(ORPHANS, "orphans", TUI_SCOPE_TARGET, 'o', 0, "o", 1,                                                     \
      "orphans: the index's documents whose item is gone (review, export, delete)")                             \
    X(SOURCE, "item", TUI_SCOPE_PREVIEW, 's', 0, "s", 1, "show the DynamoDB item / the document")               \
    X(START, "start", TUI_SCOPE_CONFIRM, 'y', '\n', "y/Enter", 1, "start the sync")                             \
    X(PAUSE, "pause", TUI_SCOPE_PROGRESS, 'p', 0, "p", 1, "pause or resume the run")                            \
    X(CANCEL, "cancel", TUI_SCOPE_PROGRESS | TUI_SCOPE_ORPHANS, 'c', 0, "c", 1,                                 \
      "cancel: stop reading, finish what is in flight, then stop")                                              \
    X(ABORT, "abort", TUI_SCOPE_PROGRESS, 'A', 0, "A", 1, "abort now, dropping what is in flight (asks y/n)")   \
    X(FASTER, "faster", TUI_SCOPE_PROGRESS, '+', '=', "+", 1, "raise the rate limit (up to unlimited)")         \
    X(SLOWER, "slower", TUI_SCOPE_PROGRESS, '-', '_', "-", 1, "lower the rate limit (documents per second)")    \
    X(EXPORT, "export", TUI_SCOPE_ORPHANS, 'w', 0, "w", 1,                                                      \
      "write the listing to a file (JSON; `ddb2es orphans --delete --from FILE` reads it)")                     \
    X(DELETE, "delete", TUI_SCOPE_ORPHANS, 'D', 0, "D", 1,                                                      \
      "delete the orphans (asks first; each is checked again before it goes)")                                   \
    X(TEXT_DONE, "done", TUI_SCOPE_TEXT, '\n', KEY_ENTER, "Enter", 1, "keep what was typed")                    \
    X(TEXT_CANCEL, "cancel", TUI_SCOPE_TEXT, TUI_KEY_ESC, 0, "Esc", 1, "leave the field as it was")              \
    X(TEXT_ERASE, "erase", TUI_SCOPE_TEXT, KEY_BACKSPACE, 127, "Backspace", 0, "erase the last character")      \
    X(TEXT_CLEAR, "clear", TUI_SCOPE_TEXT, TUI_CTRL('u'), 0, "^U", 1, "clear the field")

enum tui_req {
    REQ_NONE = 0,
#define TUI_X_ENUM(req, name, scope, key, alt, label, hint, help) REQ_##req,
    TUI_KEYS(TUI_X_ENUM)
#undef TUI_X_ENUM
    REQ_COUNT
};

struct tui;

/* The request key `ch` means on a screen accepting `scopes`; REQ_NONE when none. */
int tui_key_lookup(unsigned scopes, int ch);
/* The help line of a request ("" for REQ_NONE). A constant. */
const char *tui_key_help(int req);
/* The key label of a request ("Esc"). A constant. */
const char *tui_key_label(int req);
/* Draws the hint line (last row) for `scopes`. */
void tui_keys_draw_hints(const struct tui *t, unsigned scopes);
/* Draws the help overlay for `scopes`, from line `top` of it; returns the number of lines. */
int tui_keys_draw_help(const struct tui *t, unsigned scopes, int top);

#endif
