package tasklog

import (
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// ErrorKey is the key under which a [Field] writes what is wrong with a bad
// record: zap appends "Error" to the field's key, "tasklog". The record's
// valid keys are written beside it. For [Object](key, rec) the error key is
// key+"Error"; [TaskLog.LogValue] uses ErrorKey too.
const ErrorKey = "tasklogError"

// fieldKey is the key of the zap.Field that Field returns. zap does not
// print it for inline fields; it only names the error key.
const fieldKey = "tasklog"

// Field returns a zap field that writes rec's keys at the top level of the
// entry, the flat layout of g3proxy's own lines:
//
//	logger.Info(rec.Reason.Text(), tasklog.Field(rec))
//
// It does not allocate, and rec is marshaled only if the entry is written
// (keep rec unchanged until then). A nil rec writes only [ErrorKey].
func Field(rec *TaskLog) zap.Field {
	return zap.Field{Key: fieldKey, Type: zapcore.InlineMarshalerType, Interface: rec}
}

// Object returns a zap field that writes rec's keys nested in one JSON
// object under key, for entries that mix a task record with other keys.
// It does not allocate; a bad record's error goes under key+"Error".
func Object(key string, rec *TaskLog) zap.Field {
	return zap.Field{Key: key, Type: zapcore.ObjectMarshalerType, Interface: rec}
}

// LoggerFields returns the keys g3proxy adds to every task log line, in
// g3's order: daemon_name (written as "" when daemonName is empty, as g3
// does for a daemon without a group name), log_type "Task" and pid (this
// process, a uint32 as g3's std::process::id()). Attach them once to a task logger:
//
//	logger := zap.New(core).With(tasklog.LoggerFields("g3proxy")...)
//
// Use [LoggerFieldsNoDaemonName] to leave daemon_name out instead. Each
// call allocates a new slice.
func LoggerFields(daemonName string) []zap.Field {
	return []zap.Field{
		zap.String("daemon_name", daemonName),
		zap.String("log_type", "Task"),
		zap.Uint32("pid", uint32(os.Getpid())),
	}
}

// LoggerFieldsNoDaemonName returns [LoggerFields] without daemon_name: only
// log_type "Task" and pid, for pipelines that do not want an empty
// daemon_name. Each call allocates a new slice.
func LoggerFieldsNoDaemonName() []zap.Field {
	return []zap.Field{
		zap.String("log_type", "Task"),
		zap.Uint32("pid", uint32(os.Getpid())),
	}
}
