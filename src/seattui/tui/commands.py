"""One registry of commands: it feeds the key bindings (and so the footer), the `?` help,
the command palette, the `g` go-to box and the `:` jump box. No key is declared anywhere else.

A command belongs to the app (everywhere) or to one screen. Its action runs on that owner.
Keys can be remapped by id in the config's [keymap] table (Textual's keymap).

The key scheme: a screen is reached by `g` then its letter (or `:name`, or ctrl+p), never by a
bare letter, so a letter pressed on a screen only ever acts on that screen. The same letter
means the same thing wherever it is bound: `/` filter, `space` mark, `n` new, `e` edit,
`a` assign, `c` copy, `u` upgrade or change, `z` undo, `delete` delete, ctrl+r read again,
`escape` back one level (out of a field, then a filter, then to the dashboard).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.binding import Binding

from seattui.domain.roles import Permission

APP = "app"
FIELDS = "fields"  # every screen and dialog that talks to the portal (screens/base.py)


@dataclass(frozen=True)
class Command:
    id: str
    description: str
    action: str  # the action's name on its owner (the app's with an "app." prefix)
    key: str | None = None  # None: found through the palette only
    scope: str = APP
    help: str = ""
    needs: Permission | None = None
    show: bool = True  # in the footer
    key_display: str | None = None
    # Resolved as the key arrives, before the keys typed after it are sent on: a key that moves
    # the focus into an input (`/`) must have moved it before the text typed next arrives.
    priority: bool = False
    args: tuple[object, ...] = ()  # the action's arguments

    @property
    def name(self) -> str:
        """The action's name on the object that runs it."""
        return self.action.removeprefix("app.")

    @property
    def invocation(self) -> str:
        """The action as Textual runs it: the name, and its arguments in Python syntax."""
        arguments = f"({', '.join(repr(arg) for arg in self.args)})" if self.args else ""
        return f"{self.action}{arguments}"


@dataclass(frozen=True)
class ScreenEntry:
    """A built screen: its id (also its `:` name), its letter after `g`, its title, and the
    class that builds it (imported when it first opens, so the first frame pays for none)."""

    id: str
    key: str
    title: str
    help: str
    module: str  # under seattui.tui.screens
    screen: str  # the class in that module
    # The organization's screens need its READ, which a customer's own login lacks; the
    # customer's screen needs OWN_LICENSES, which no member has. So each sees only theirs.
    needs: Permission | None = Permission.READ


# The screens that exist. A screen is listed here once it is built, not before.
SCREENS: tuple[ScreenEntry, ...] = (
    ScreenEntry("dashboard", "d", "Dashboard", "Balance, ledger, licenses and what needs attention",
                "dashboard", "DashboardScreen"),
    ScreenEntry("keys", "k", "Activation keys", "Keys with their licenses and subscriptions: create, copy, assign",
                "keys", "KeysScreen"),
    ScreenEntry("assign", "a", "Assign a license", "The wizard: key, product, edition, term, quantity, customer, "
                "review with the credit check", "assign", "AssignScreen", needs=Permission.ASSIGN),
    ScreenEntry("licenses", "l", "Licenses", "Every license: filter, facets, upgrade, edit, delete, devices",
                "licenses", "LicensesScreen"),
    ScreenEntry("support", "s", "Support", "Licenses by end of support; extend or upgrade many at once",
                "support", "SupportScreen"),
    ScreenEntry("employees", "e", "Employees", "Employees and their seats; bulk seat reassignment",
                "employees", "EmployeesScreen"),
    ScreenEntry("ledger", "o", "Ledger and orders", "Every ledger entry and order: filter by days, kind and text; "
                "an order's lines; export to CSV", "ledger", "LedgerScreen"),
    ScreenEntry("customers", "c", "Customers", "Everyone you resell to: what each holds and spent; export to CSV",
                "customers", "CustomersScreen"),
    ScreenEntry("invoices", "i", "Invoices", "Unpaid invoices first, then all: lines, pay from credits, PDF, email",
                "invoices", "InvoicesScreen"),
    ScreenEntry("subscriptions", "u", "Subscriptions", "Every seat plan and channel subscription: cap, seats, "
                "renewal, channels, cancel", "subscriptions", "SubscriptionsScreen"),
    ScreenEntry("children", "r", "Child accounts", "A reseller's own customer organizations: usage, create, "
                "invite their members", "children", "ChildrenScreen", needs=Permission.MANAGE_CHILDREN),
    ScreenEntry("members", "m", "Members", "The team: members and roles, invitations, API tokens",
                "members", "MembersScreen", needs=Permission.MANAGE_MEMBERS),
    ScreenEntry("audit", "h", "Audit log", "Every change: who, what, when, the object and the batch; "
                "filter, open a batch, write a CSV", "audit", "AuditScreen"),
    ScreenEntry("yours", "y", "Your licenses", "A customer's own licenses: keys, products, support and devices; "
                "deactivate a device, write a license file", "own_licenses", "OwnLicensesScreen",
                needs=Permission.OWN_LICENSES),
    ScreenEntry("your_subscriptions", "t", "Your subscriptions", "A customer's own subscriptions and seat plans: "
                "seats or channels, renewal, status; write a signed file", "own_subscriptions",
                "OwnSubscriptionsScreen", needs=Permission.OWN_LICENSES),
)


def _screen_commands() -> list[Command]:
    # In the `g` box (scope "go"), each under its letter; the palette lists them as the app's.
    return [
        Command(f"go.{entry.id}", entry.title, "pick", key=entry.key, scope="go", help=entry.help,
                needs=entry.needs, args=(entry.id,))
        for entry in SCREENS
    ] + [
        Command(f"screen.{entry.id}", f"Go to {entry.title.lower()}", "app.open_screen", help=entry.help,
                needs=entry.needs, args=(entry.id,))
        for entry in SCREENS
    ]


COMMANDS: tuple[Command, ...] = (
    # f1 where a text box has the focus: there `?` is text (a login, a password).
    Command("app.help", "Help", "app.help", key="question_mark,f1", key_display="?",
            help="The keys and commands of this screen (f1 in a text box)"),
    Command("app.go", "Go to", "app.go", key="g",
            help="Go to another screen: g, then its letter (g l licenses, g e employees, g d dashboard)"),
    Command("app.jump", "Jump", "app.jump", key="colon", key_display=":", show=False,
            help="Jump to a screen by name: :dashboard, :keys, :licenses ..."),
    *_screen_commands(),
    Command("go.close", "Back", "dismiss", key="escape", scope="go", args=(None,)),
    Command("app.quit", "Quit", "app.quit_app", key="q", help="Quit seattui (asks first if a change is running)"),
    Command("app.logout", "Log out", "app.logout", help="Revoke this session and return to the login"),
    Command("app.profiles", "Switch profile", "app.switch_profile", help="Log in to another portal or as someone else"),
    Command("app.theme", "Change theme", "app.change_theme", help="Pick the colour theme"),
    Command("start.retry", "Retry", "retry", key="ctrl+r", scope="start", help="Try to reach the portal again"),
    Command("start.profiles", "Profiles", "profiles", key="f2", scope="start", help="Pick or add a profile"),
    Command("login.retry", "Retry", "retry", key="ctrl+r", scope="login", help="Send the login again"),
    Command("login.profiles", "Profiles", "profiles", key="f2", scope="login", help="Pick or add a profile"),
    Command("login.invitation", "Invitation", "invitation", key="f3", scope="login",
            help="I have an invitation: join with its token, choosing a login name and a password"),
    Command("setup.create", "Create", "create", key="ctrl+s", scope="setup",
            help="Create the organization and its owner"),
    Command("confirm.yes", "Yes", "answer", args=(True,), key="y", scope="confirm"),
    Command("confirm.no", "No", "answer", args=(False,), key="n,escape", scope="confirm"),
    # Resolved as they arrive, so the text typed right after them goes in the field they move to.
    Command("fields.next", "Next field", "next_field", key="tab", scope=FIELDS, show=False, priority=True,
            help="Move to the next field; what you type next goes there"),
    Command("fields.previous", "Previous field", "previous_field", key="shift+tab", scope=FIELDS, show=False,
            priority=True, help="Move to the previous field"),
    Command("help.close", "Close", "dismiss", key="escape,q", scope="help"),
    Command("jump.close", "Back", "dismiss", args=(None,), key="escape", scope="jump"),
    Command("profiles.close", "Back", "dismiss", args=(None,), key="escape", scope="profiles"),
    Command("relogin.cancel", "Log out", "give_up", key="escape", scope="relogin",
            help="Give up this session and return to the login"),
    # Every table of rows (keys, licenses, support, employees) shares these.
    Command("table.down", "Down", "cursor_down", key="down,j", scope="table", show=False),
    Command("table.up", "Up", "cursor_up", key="up,k", scope="table", show=False),
    Command("table.page_down", "Page down", "page_down", key="pagedown", scope="table", show=False),
    Command("table.page_up", "Page up", "page_up", key="pageup", scope="table", show=False),
    Command("table.first", "First row", "first", key="home", scope="table", show=False),
    Command("table.last", "Last row", "last", key="end", scope="table", show=False),
    Command("table.open", "Open", "select", key="enter", scope="table", show=False,
            help="Open the row under the cursor"),
    Command("table.mark", "Mark", "toggle_mark", key="space", scope="table",
            help="Mark or unmark the row; bulk actions apply to the marked rows"),
    Command("table.range", "Range", "range_mark", key="v", scope="table", show=False,
            help="Mark a range: v, move the cursor, v again"),
    Command("table.extend_down", "Mark down", "extend_down", key="shift+down", scope="table", show=False),
    Command("table.extend_up", "Mark up", "extend_up", key="shift+up", scope="table", show=False),
    Command("table.mark_all", "Mark all", "mark_all", key="ctrl+a", scope="table", show=False,
            help="Mark every row the filter matches"),
    Command("table.clear_marks", "Clear marks", "clear_marks", key="U", scope="table", show=False),
    Command("table.sort", "Sort", "next_sort", key="o", scope="table", show=False,
            help="Sort by the next column"),
    Command("table.reverse", "Reverse", "reverse_sort", key="O", scope="table", show=False,
            help="Reverse the sort order"),
    Command("dashboard.refresh", "Refresh", "refresh", key="ctrl+r", scope="dashboard",
            help="Read every figure again from the portal"),
    Command("dashboard.open", "Open", "open_figure", key="enter", scope="dashboard", show=False,
            help="Open the list behind the figure under the cursor"),
    # activation keys and the assignment wizard ---------------------------------------------
    # Lists of choices (products, editions, terms) move with j/k as tables do.
    Command("choice.down", "Down", "cursor_down", key="j", scope="choice", show=False),
    Command("choice.up", "Up", "cursor_up", key="k", scope="choice", show=False),
    Command("choice.select", "Next", "select", key="enter", scope="choice",
            help="Take the highlighted choice and go on"),
    Command("picks.done", "Next", "done", key="enter", scope="picks",
            help="The add-ons are chosen: go on"),
    Command("keys.filter", "Filter", "filter", key="slash", key_display="/", scope="keys", priority=True,
            help="Filter the keys by name or key as you type"),
    Command("keys.new", "New key", "new_key", key="n", scope="keys", needs=Permission.MANAGE_KEYS,
            help="Create a key: random, or typed by you"),
    Command("keys.copy", "Copy", "copy_key", key="c", scope="keys",
            help="Copy the key under the cursor to the clipboard (works over SSH)"),
    Command("keys.assign", "Assign", "assign", key="a", scope="keys", needs=Permission.ASSIGN,
            help="Start the assignment wizard with this key filled in"),
    Command("keys.rename", "Rename", "rename", key="e", scope="keys", needs=Permission.MANAGE_KEYS,
            show=False, help="Give the key under the cursor another name"),
    Command("keys.delete", "Delete", "delete", key="delete", scope="keys", needs=Permission.MANAGE_KEYS,
            show=False, help="Delete the marked keys (or the one under the cursor) that hold nothing"),
    Command("keys.refresh", "Refresh", "refresh", key="ctrl+r", scope="keys", show=False,
            help="Read the keys again from the portal"),
    Command("keys.back", "Back", "back", key="escape", scope="keys", show=False,
            help="Leave the filter, then show every key, then back to the dashboard"),
    Command("key.copy", "Copy", "copy_key", key="c", scope="key", help="Copy the key to the clipboard"),
    Command("key.assign", "Assign", "assign", key="a", scope="key", needs=Permission.ASSIGN,
            help="Assign a license to this key"),
    Command("key.channels", "Channels", "change_channels", key="u", scope="key", needs=Permission.PURCHASE,
            help="Change the channels of the subscription under the cursor"),
    Command("key.rename", "Rename", "rename", key="e", scope="key", needs=Permission.MANAGE_KEYS,
            help="Give the key another name"),
    Command("key.refresh", "Refresh", "refresh", key="ctrl+r", scope="key", show=False),
    Command("key.back", "Back", "dismiss", key="escape", scope="key", help="Back to the list of keys"),
    Command("keyform.save", "Save", "save", key="ctrl+s", scope="keyform", help="Create (or rename) the key"),
    Command("keyform.cancel", "Cancel", "dismiss", args=(None,), key="escape", scope="keyform"),
    Command("channels.confirm", "Confirm", "confirm", key="ctrl+s", scope="channels",
            help="Change the channels for the cost shown"),
    Command("channels.cancel", "Cancel", "dismiss", args=(None,), key="escape", scope="channels"),
    Command("assign.next", "Next", "next", key="enter", scope="assign",
            help="Keep this answer and go to the next step"),
    Command("assign.back", "Back", "back", key="escape", scope="assign",
            help="The previous step; every answer is kept"),
    Command("assign.new_key", "New key", "new_key", key="ctrl+n", scope="assign", needs=Permission.MANAGE_KEYS,
            help="Create a key on the spot and use it"),
    Command("assign.confirm", "Confirm", "confirm", key="y", scope="assign",
            help="Create the license or subscription and pay the cost shown"),
    Command("assign.pay_by", "Credits or invoice", "pay_by", key="ctrl+t", scope="assign", needs=Permission.PURCHASE,
            help="Monthly terms with credits left: pay from credits now, or put it on the month's invoice"),
    Command("assign.copy", "Copy key", "copy_key", key="c", scope="assign", help="Copy the key to the clipboard"),
    Command("assign.again", "Another", "again", key="a", scope="assign",
            help="Assign another license to the same key"),
    Command("assign.restart", "Start over", "restart", scope="assign",
            help="Forget every answer and start the wizard again"),
    # The licenses screen.
    Command("licenses.filter", "Filter", "focus_filter", key="slash", key_display="/", scope="licenses",
            priority=True, help="Filter as you type: key, customer email or comment"),
    Command("licenses.facets", "Facets", "facets", key="f", scope="licenses",
            show=False, help="Filter by product, edition, term and status, with counts"),
    Command("licenses.upgrade", "Upgrade", "upgrade", key="u", scope="licenses", needs=Permission.PURCHASE,
            help="Edition up, quantity up, add-ons, or a trial made permanent, with a quote"),
    Command("licenses.edit", "Edit", "edit", key="e", scope="licenses", needs=Permission.ASSIGN,
            help="The customer email and the comment (enter too)"),
    Command("licenses.delete", "Delete", "delete", key="delete", scope="licenses", needs=Permission.PURCHASE,
            help="Delete the marked licenses (or the cursor's) and refund them; not while activated"),
    Command("licenses.deactivate", "Deactivate", "release_device", key="D", scope="licenses",
            needs=Permission.RELEASE_DEVICES, show=False, help="Force the license off its device"),
    Command("licenses.file", "License file", "write_file", key="w", scope="licenses", show=False,
            help="Write the signed license file of the license under the cursor (asks where; a machine file too)"),
    Command("licenses.offline", "Offline activation", "offline_activate", key="A", scope="licenses", show=False,
            needs=Permission.ASSIGN, help="Activate a machine that cannot reach the portal from its request file"),
    Command("licenses.to_child", "To a child", "move_to_child", key="r", scope="licenses",
            needs=Permission.MANAGE_CHILDREN, show=False,
            help="Reassign the license under the cursor, with its key, to one of your child accounts"),
    Command("licenses.refresh", "Refresh", "refresh", key="ctrl+r", scope="licenses", show=False,
            help="Read the list again from the portal"),
    Command("licenses.back", "Back", "back", key="escape", scope="licenses", show=False,
            help="Leave the filter box, then clear the filter, then back to the dashboard"),
    # A customer's own licenses (their own login's one screen).
    Command("yours.filter", "Filter", "focus_filter", key="slash", key_display="/", scope="yours",
            priority=True, help="Filter as you type: key"),
    Command("yours.deactivate", "Deactivate", "release_device", key="D", scope="yours",
            help="Deactivate the license under the cursor from its device (asks first), to move it to another"),
    Command("yours.file", "License file", "write_file", key="w", scope="yours",
            help="Write the signed license file of the license under the cursor (asks where)"),
    Command("yours.offline", "Offline activation", "offline_activate", key="A", scope="yours", show=False,
            help="Activate a machine of yours that cannot reach the portal from its request file"),
    Command("yours.refresh", "Refresh", "refresh", key="ctrl+r", scope="yours", show=False,
            help="Read your licenses again from the portal"),
    Command("yours.back", "Back", "back", key="escape", scope="yours", show=False,
            help="Leave the filter box, then clear the filter"),
    # A customer's own subscriptions and seat plans.
    Command("your_subscriptions.filter", "Filter", "filter", key="slash", key_display="/", scope="your_subscriptions",
            priority=True, help="Filter as you type: product, key, plan or status"),
    Command("your_subscriptions.file", "Signed file", "write_file", key="w", scope="your_subscriptions",
            help="Write the signed file of the subscription or seat plan under the cursor (asks where)"),
    Command("your_subscriptions.refresh", "Refresh", "refresh", key="ctrl+r", scope="your_subscriptions",
            show=False, help="Read your subscriptions again from the portal"),
    Command("your_subscriptions.back", "Back", "back", key="escape", scope="your_subscriptions", show=False,
            help="Leave the filter box, then clear the filter, then back to your licenses"),
    # The support screen.
    Command("support.filter", "Filter", "focus_filter", key="slash", key_display="/", scope="support",
            priority=True, help="Filter as you type: key, customer email or comment"),
    Command("support.extend", "Extend", "extend", key="x", scope="support", needs=Permission.PURCHASE,
            help="Extend the support of the marked licenses (or the cursor's) by whole years"),
    Command("support.upgrade", "Upgrade", "upgrade", key="u", scope="support", needs=Permission.PURCHASE,
            help="Edition up, quantity up or add-ons for the license under the cursor, with a quote"),
    Command("support.expired", "Expired", "expired", key="1", scope="support", show=False, help="Support that has ended"),
    Command("support.ending", "Ending", "ending", key="2", scope="support", show=False, help="Support ending within 30 days"),
    Command("support.dates", "Dates", "dates", key="3", scope="support", show=False, help="Support ending between two dates"),
    Command("support.all", "All", "all", key="4", scope="support", show=False,
            help="Every permanent license, by end of support"),
    Command("support.refresh", "Refresh", "refresh", key="ctrl+r", scope="support", show=False,
            help="Read the list again from the portal"),
    Command("support.back", "Back", "back", key="escape", scope="support", show=False,
            help="Leave the filter box, then clear the filter, then back to the dashboard"),
    # Their dialogs.
    Command("form.submit", "Save", "submit", key="ctrl+s", scope="form", help="Go on: save, or review and confirm"),
    Command("form.cancel", "Cancel", "cancel", key="escape", scope="form", help="Close without changing anything"),
    Command("facets.close", "Close", "cancel", key="escape", scope="facets", help="Keep the filter as it is"),
    # -- employees and seats --------------------------------------------------------------
    Command("employees.filter", "Filter", "focus_filter", key="slash", scope="employees", key_display="/",
            priority=True, help="Filter as you type: words in the name, email or department"),
    Command("employees.reassign", "Reassign", "reassign", key="r", scope="employees", needs=Permission.ASSIGN,
            help="Move the marked employees' seats to other employees (preview first)"),
    Command("employees.assign", "Seat", "assign", key="s", scope="employees", needs=Permission.ASSIGN,
            help="Give the marked employees (or the one under the cursor) a seat of a product"),
    Command("employees.unassign", "Take seat", "unassign", key="S", scope="employees", needs=Permission.ASSIGN,
            show=False, help="Take back a product's seat from the marked employees"),
    Command("employees.add", "New", "add", key="n", scope="employees", needs=Permission.MANAGE_EMPLOYEES,
            help="Add an employee"),
    Command("employees.edit", "Edit", "edit", key="enter", scope="employees", needs=Permission.MANAGE_EMPLOYEES,
            show=False, help="Edit the employee under the cursor"),
    Command("employees.depart", "Departed", "depart", key="d", scope="employees", needs=Permission.MANAGE_EMPLOYEES,
            show=False, help="Mark the marked employees (or the one under the cursor) departed; they keep their seats"),
    Command("employees.import", "Import", "import_file", key="i", scope="employees",
            needs=Permission.MANAGE_EMPLOYEES, show=False,
            help="Import employees from a CSV file (name, email, department): every row or none"),
    Command("employees.batches", "Batches", "batches", key="b", scope="employees",
            show=False, help="The seat batches applied, newest first; z undoes one"),
    Command("employees.facet", "Departments", "departments", key="f", scope="employees", show=False,
            help="Pick a department (the facet shows how many match in each)"),
    Command("employees.status", "Status", "next_status", key="t", scope="employees", show=False,
            help="Show everyone, the active or the departed employees"),
    Command("employees.refresh", "Refresh", "refresh", key="ctrl+r", scope="employees", show=False,
            help="Read the list again from the portal"),
    Command("employees.back", "Back", "back", key="escape", scope="employees", show=False,
            help="From the filter or the departments: back to the list"),
    Command("reassign.preview", "Preview", "preview", key="p", scope="reassign", needs=Permission.ASSIGN,
            help="Check every move with the portal and show them before anything changes"),
    Command("reassign.mode", "Targets", "next_mode", key="t", scope="reassign",
            help="Targets: employees you mark in order, or the first N without a seat in a department"),
    Command("reassign.filter", "Filter", "focus_filter", key="slash", scope="reassign", key_display="/",
            priority=True, help="Filter the target list as you type"),
    Command("reassign.back", "Back", "back", key="escape", scope="reassign", help="Back to the employees"),
    Command("preview.apply", "Apply", "apply", key="enter", scope="preview", needs=Permission.ASSIGN,
            help="Apply every move in one batch: all of them or none"),
    Command("preview.drop", "Leave out", "drop_conflicts", key="delete", scope="preview",
            help="Leave out the marked moves, or else those with a conflict, and check the rest again"),
    Command("preview.undo", "Undo batch", "undo", key="z", scope="preview", needs=Permission.ASSIGN,
            help="Undo the applied batch with an inverse batch (refused if its seats changed since)"),
    Command("preview.back", "Back", "back", key="escape", scope="preview",
            help="Back one step; while a batch is on its way, stop waiting for its answer"),
    Command("batches.undo", "Undo batch", "undo", key="z", scope="batches", needs=Permission.ASSIGN,
            help="Undo the batch under the cursor (refused if its seats changed since)"),
    Command("batches.refresh", "Refresh", "refresh", key="ctrl+r", scope="batches", show=False),
    Command("batches.back", "Back", "dismiss", key="escape", scope="batches", help="Back to the employees"),
    # -- the ledger and orders -----------------------------------------------------------------
    Command("ledger.filter", "Filter", "focus_filter", key="slash", key_display="/", scope="ledger", priority=True,
            help="Filter as you type: a ledger entry's memo or login; an order's reference, PO number, login, "
                 "invoice number or line"),
    Command("ledger.ledger", "Ledger", "show_view", key="1", scope="ledger", args=("ledger",),
            help="The ledger entries: every credit and debit with the balance after it"),
    Command("ledger.orders", "Orders", "show_view", key="2", scope="ledger", args=("orders",),
            help="The orders: every paid change; enter shows its lines"),
    Command("ledger.dates", "Days", "dates", key="3", scope="ledger",
            help="Show the entries of a range of days (either end may be left open)"),
    Command("ledger.kind", "Kind", "next_kind", key="t", scope="ledger",
            help="Show one kind only: the next ledger reason or order kind, then every kind again"),
    Command("ledger.export", "Export", "write_file", key="w", scope="ledger",
            help="Write everything the filter matches to a CSV file (asks where), not only what is loaded"),
    Command("ledger.refresh", "Refresh", "refresh", key="ctrl+r", scope="ledger", show=False,
            help="Read the list again from the portal"),
    Command("ledger.back", "Back", "back", key="escape", scope="ledger", show=False,
            help="Leave the filter box, then clear the filter, then back to the dashboard"),
    Command("order.close", "Back", "close", key="escape", scope="order", help="Back to the orders"),
    # customers ------------------------------------------------------------------------------
    Command("customers.filter", "Filter", "filter", key="slash", key_display="/", scope="customers", priority=True,
            help="Filter the customers by words of the email, name or company as you type"),
    Command("customers.add", "New", "add", key="n", scope="customers", needs=Permission.ASSIGN,
            help="Add a customer by email (assigning a license to a new email adds one too)"),
    Command("customers.edit", "Edit", "edit", key="e", scope="customers", needs=Permission.ASSIGN,
            help="Change the name, company, address or notes of the customer under the cursor"),
    Command("customers.export", "Write CSV", "write_file", key="w", scope="customers",
            help="Write the customers the filter matches (all of them) to a CSV file"),
    Command("customers.refresh", "Refresh", "refresh", key="ctrl+r", scope="customers", show=False,
            help="Read the customers again from the portal"),
    Command("customers.back", "Back", "back", key="escape", scope="customers", show=False,
            help="Leave the filter, then clear it, then back to the dashboard"),
    Command("customer.close", "Close", "close", key="escape", scope="customer", help="Back to the customers"),
    Command("customer.invite", "Invite to their account", "invite", key="n", scope="customer", needs=Permission.ASSIGN,
            help="Mail the customer a new code that sets up their own login (a code mailed before stops working)"),
    Command("customer.password", "Mail password code", "password_code", key="m", scope="customer",
            needs=Permission.ASSIGN,
            help="Mail the customer a code that sets a new password for their login (theirs works until then)"),
    Command("customer.login", "Disable/enable login", "switch_login", key="L", scope="customer",
            needs=Permission.ASSIGN,
            help="Disable the customer's login (their sessions end at once), or enable it again"),
    Command("customer.refresh", "Refresh", "refresh", key="ctrl+r", scope="customer", show=False,
            help="Read the customer again from the portal"),
    # -- invoices -----------------------------------------------------------------------------
    Command("invoices.filter", "Filter", "filter", key="slash", key_display="/", scope="invoices", priority=True,
            help="Filter by invoice number as you type"),
    Command("invoices.pay", "Pay", "pay", key="p", scope="invoices", needs=Permission.PURCHASE,
            help="Pay the invoice under the cursor from credits (a review shows the balance after)"),
    Command("invoices.pdf", "PDF", "write_file", key="w", scope="invoices",
            help="Write the invoice's PDF to a file (asks where; the current directory by default)"),
    Command("invoices.email", "Email", "email", key="m", scope="invoices", needs=Permission.MANAGE_BILLING,
            help="Email the invoice's PDF to the billing address or to one typed"),
    Command("invoices.refresh", "Refresh", "refresh", key="ctrl+r", scope="invoices", show=False,
            help="Read the invoices again from the portal"),
    Command("invoices.back", "Back", "back", key="escape", scope="invoices", show=False,
            help="Leave the filter box, then clear the filter and sort, then back to the dashboard"),
    # -- subscriptions ------------------------------------------------------------------------
    Command("subscriptions.change", "Change", "change", key="u", scope="subscriptions", needs=Permission.PURCHASE,
            help="A flexible plan's cap, seats added to an annual contract, a trial converted, or the channels"),
    Command("subscriptions.renewal", "Renewal", "renewal", key="e", scope="subscriptions",
            needs=Permission.PURCHASE, help="What an annual contract does at renewal: same seats, assigned, or end"),
    Command("subscriptions.cancel", "Cancel", "cancel", key="delete", key_display="del", scope="subscriptions",
            needs=Permission.PURCHASE, help="Cancel a channel subscription: at the end of the paid month, or now"),
    Command("subscriptions.new", "New", "new", key="n", scope="subscriptions", needs=Permission.ASSIGN,
            help="A new seat plan or subscription: the assignment wizard, on the key under the cursor"),
    Command("subscriptions.filter", "Filter", "filter", key="slash", key_display="/", scope="subscriptions",
            priority=True, help="Filter by product, key, plan or status as you type ('renews soon' too)"),
    Command("subscriptions.refresh", "Refresh", "refresh", key="ctrl+r", scope="subscriptions", show=False,
            help="Read the subscriptions again from the portal"),
    Command("subscriptions.back", "Back", "back", key="escape", scope="subscriptions", show=False,
            help="Leave the filter box, then clear the filter, then back to the dashboard"),
    Command("subscription_change.confirm", "Confirm", "confirm", key="ctrl+s", scope="subscription_change",
            help="Make the change for the cost shown"),
    Command("subscription_change.cancel", "Back", "dismiss", args=(False,), key="escape",
            scope="subscription_change"),
    Command("invoice.close", "Back", "close", key="escape", scope="invoice", help="Back to the invoices"),
    Command("employee_form.save", "Save", "save", key="ctrl+s", scope="employee_form", help="Save the employee"),
    Command("employee_form.cancel", "Cancel", "dismiss", args=(None,), key="escape", scope="employee_form"),
    Command("import.cancel", "Close", "dismiss", args=(None,), key="escape", scope="import"),
    Command("seat_pick.cancel", "Cancel", "dismiss", args=(None,), key="escape", scope="seat_pick"),
    # -- the team: members, invitations, API tokens -------------------------------------------
    Command("members.invite", "Invite", "invite", key="n", scope="members", needs=Permission.MANAGE_MEMBERS,
            help="Invite someone by email with a role (mailed; works once, for 7 days)"),
    Command("members.role", "Role", "change_role", key="u", scope="members", needs=Permission.MANAGE_MEMBERS,
            help="Give the member under the cursor another role (only owners make owners)"),
    Command("members.remove", "Remove", "remove", key="delete", scope="members", needs=Permission.MANAGE_MEMBERS,
            help="Remove the member (their sessions and tokens end), or revoke the invitation or token, "
                 "under the cursor of the list in focus"),
    Command("members.resend", "Resend", "resend", key="m", scope="members", needs=Permission.MANAGE_MEMBERS,
            help="Mail the invitation under the cursor again, with a new token and seven more days"),
    Command("members.token", "Token", "new_token", key="T", scope="members",
            help="Make an API token that acts for you, shown once with copy"),
    Command("members.refresh", "Refresh", "refresh", key="ctrl+r", scope="members", show=False,
            help="Read the members, invitations and tokens again"),
    Command("members.back", "Back", "back", key="escape", scope="members", show=False,
            help="Back to the dashboard"),
    Command("team_form.save", "Save", "save", key="ctrl+s", scope="team_form", help="Send it"),
    Command("team_form.cancel", "Cancel", "dismiss", args=(None,), key="escape", scope="team_form"),
    Command("secret.copy", "Copy", "copy_key", key="c", scope="secret", help="Copy the token to the clipboard"),
    Command("secret.close", "Close", "dismiss", args=(None,), key="escape", scope="secret"),
    Command("accept.save", "Join", "save", key="ctrl+s", scope="accept",
            help="Join the organization with this invitation and log in"),
    Command("accept.cancel", "Cancel", "dismiss", args=(None,), key="escape", scope="accept"),
    # -- child accounts -----------------------------------------------------------------------
    Command("children.new", "New", "new", key="n", scope="children", needs=Permission.MANAGE_CHILDREN,
            help="Create a child account, and invite its first member (as owner) if an email is given"),
    Command("children.invite", "Invite", "mail_invitation", key="m", scope="children", needs=Permission.MANAGE_CHILDREN,
            help="Mail an invitation into the child account under the cursor, with a role"),
    Command("children.refresh", "Refresh", "refresh", key="ctrl+r", scope="children", show=False,
            help="Read the child accounts and their usage again"),
    Command("children.back", "Back", "back", key="escape", scope="children", show=False,
            help="Back to the dashboard"),
    Command("child.refresh", "Refresh", "refresh", key="ctrl+r", scope="child", show=False,
            help="Read the child's usage again"),
    Command("child.close", "Back", "close", key="escape", scope="child", help="Back to the child accounts"),
    # -- the audit log ------------------------------------------------------------------------
    Command("audit.filter", "Filter", "filter", key="slash", key_display="/", scope="audit", priority=True,
            help="Filter as you type: user:LOGIN kind:AREA[.ACTION] object:KIND[#ID] since:DAY until:DAY"),
    Command("audit.batch", "Batch", "open_batch", key="enter", scope="audit",
            help="What the batch of the entry under the cursor did: its seat moves, or its entries (enter too)"),
    Command("audit.export", "Write CSV", "write_file", key="w", scope="audit",
            help="Write the entries the filter matches to a CSV file (asks where)"),
    Command("audit.refresh", "Refresh", "refresh", key="ctrl+r", scope="audit", show=False,
            help="Read the log again from the portal"),
    Command("audit.back", "Back", "back", key="escape", scope="audit", show=False,
            help="Leave the filter box, then clear the filter, then back to the dashboard"),
    Command("audit_batch.refresh", "Refresh", "refresh", key="ctrl+r", scope="audit_batch", show=False),
    Command("audit_batch.back", "Back", "back", key="escape", scope="audit_batch", help="Back to the audit log"),
)


def commands_for(scope: str) -> list[Command]:
    return [command for command in COMMANDS if command.scope == scope]


def bindings(scope: str) -> list[Binding]:
    """The Textual bindings of a scope, each with the command's id so keymaps can change it."""
    return [binding for command in commands_for(scope) for binding in bindings_of(command, scope)]


def bindings_of(command: Command, scope: str) -> list[Binding]:
    """One binding per key of the command; a `key_display` names its first key only (`?` for
    help, while f1 shows as itself where a text box takes the `?`)."""
    if command.key is None:
        return []
    action = command.invocation.removeprefix("app.") if scope == APP else command.invocation
    return [
        Binding(key, action, command.description, show=command.show, id=command.id, tooltip=command.help,
                key_display=command.key_display if index == 0 else None, priority=command.priority)
        for index, key in enumerate(command.key.split(","))
    ]


def screen_bindings(scope: str) -> list[Binding]:
    """A full screen's bindings: `?` first, so the footer always has room for it, then its own."""
    help_command = next(command for command in COMMANDS if command.id == "app.help")
    return [*bindings_of(help_command, "screen"), *bindings(scope)]


def _actions(scope: str) -> dict[str, Command]:
    """A scope's commands by the action they run (the first of each), made once per scope."""
    found = _ACTIONS.get(scope)
    if found is None:
        found = {}
        for command in commands_for(scope):
            found.setdefault(command.name if scope == APP else command.action, command)
        _ACTIONS[scope] = found
    return found


# Every check of a key asks (the footer checks each key it shows): a pass over the whole
# registry each time cost a cursor move of a long list more than its table did.
_ACTIONS: dict[str, dict[str, Command]] = {}


def find(scope: str, action: str) -> Command | None:
    return _actions(scope).get(action)


def by_id(command_id: str) -> Command | None:
    return next((command for command in COMMANDS if command.id == command_id), None)


def allowed(command: Command | None, permissions: Iterable[Permission]) -> bool:
    return command is None or command.needs is None or command.needs in set(permissions)


def screen_entry(screen_id: str) -> ScreenEntry | None:
    return next((entry for entry in SCREENS if entry.id == screen_id), None)
