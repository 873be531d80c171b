/* The Windows programs of `cargo xtask test-windows`' guard and environment
 * scenarios, built with mingw-w64 and copied under the names the scenario
 * needs (AnyDesk.exe, Rekenmachine.exe, obs64.exe, ...).
 *
 *   room.exe                 sleeps until it is ended (a program a student runs)
 *   room.exe list            prints "<pid> <parent pid> <name>" for every process
 *   room.exe start A.exe ... starts each program (no window, nothing inherited) and
 *                            prints "room <own pid>" and "started <pid> <program>"
 *                            per program, then "ready"; then, for every line read
 *                            on stdin, "<program> running" or "<program> ended
 *                            <exit code>" per program and a line ".". At the end
 *                            of stdin it ends the programs still running, waits
 *                            for them and exits.
 */
#include <windows.h>
#include <tlhelp32.h>
#include <stdio.h>
#include <string.h>

#define MAX_CHILDREN 16

static int list(void) {
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    PROCESSENTRY32 entry;
    if (snap == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "CreateToolhelp32Snapshot failed: %lu\n", GetLastError());
        return 2;
    }
    entry.dwSize = sizeof entry;
    if (Process32First(snap, &entry)) {
        do {
            printf("%lu %lu %s\n", entry.th32ProcessID, entry.th32ParentProcessID, entry.szExeFile);
        } while (Process32Next(snap, &entry));
    }
    CloseHandle(snap);
    return 0;
}

static int start(int count, char **programs) {
    PROCESS_INFORMATION children[MAX_CHILDREN];
    char line[256];
    int i;
    if (count > MAX_CHILDREN) {
        fprintf(stderr, "at most %d programs\n", MAX_CHILDREN);
        return 2;
    }
    printf("room %lu\n", GetCurrentProcessId());
    for (i = 0; i < count; i++) {
        STARTUPINFOA startup;
        char command[MAX_PATH + 2];
        memset(&startup, 0, sizeof startup);
        startup.cb = sizeof startup;
        snprintf(command, sizeof command, "\"%s\"", programs[i]);
        if (!CreateProcessA(programs[i], command, NULL, NULL, FALSE, CREATE_NO_WINDOW, NULL, NULL, &startup,
                            &children[i])) {
            fprintf(stderr, "cannot start %s: %lu\n", programs[i], GetLastError());
            return 2;
        }
        CloseHandle(children[i].hThread);
        printf("started %lu %s\n", children[i].dwProcessId, programs[i]);
    }
    printf("ready\n");
    fflush(stdout);
    while (fgets(line, sizeof line, stdin)) {
        for (i = 0; i < count; i++) {
            DWORD code = 0;
            if (WaitForSingleObject(children[i].hProcess, 0) == WAIT_OBJECT_0) {
                GetExitCodeProcess(children[i].hProcess, &code);
                printf("%s ended %lu\n", programs[i], code);
            } else {
                printf("%s running\n", programs[i]);
            }
        }
        printf(".\n");
        fflush(stdout);
    }
    for (i = 0; i < count; i++) {
        if (WaitForSingleObject(children[i].hProcess, 0) != WAIT_OBJECT_0) {
            TerminateProcess(children[i].hProcess, 0);
            WaitForSingleObject(children[i].hProcess, 10000);
        }
        CloseHandle(children[i].hProcess);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "list") == 0) {
        return list();
    }
    if (argc >= 3 && strcmp(argv[1], "start") == 0) {
        return start(argc - 2, argv + 2);
    }
    Sleep(INFINITE);
    return 0;
}
