package train

// LambdaCallback calls the functions it is given at their hooks, as Keras's
// LambdaCallback; a nil function is skipped. It implements Callback and
// every optional hook (TrainBatchBeginner, TestHooks, PredictHooks), so it
// works with Fit, Evaluate and Predict alike.
type LambdaCallback struct {
	TrainBegin        func(m *Model, p Params)
	TrainEnd          func(logs Logs)
	EpochBegin        func(epoch int)
	EpochEnd          func(epoch int, logs Logs)
	TrainBatchBegin   func(batch int)
	BatchEnd          func(batch int, logs Logs)
	TestBegin         func(m *Model, p Params)
	TestBatchBegin    func(batch int)
	TestBatchEnd      func(batch int, logs Logs)
	TestEnd           func(logs Logs)
	PredictBegin      func(m *Model, p Params)
	PredictBatchBegin func(batch int)
	PredictBatchEnd   func(batch int)
	PredictEnd        func()
}

// OnTrainBegin calls TrainBegin.
func (l *LambdaCallback) OnTrainBegin(m *Model, p Params) {
	if l.TrainBegin != nil {
		l.TrainBegin(m, p)
	}
}

// OnTrainEnd calls TrainEnd.
func (l *LambdaCallback) OnTrainEnd(logs Logs) {
	if l.TrainEnd != nil {
		l.TrainEnd(logs)
	}
}

// OnEpochBegin calls EpochBegin.
func (l *LambdaCallback) OnEpochBegin(epoch int) {
	if l.EpochBegin != nil {
		l.EpochBegin(epoch)
	}
}

// OnEpochEnd calls EpochEnd.
func (l *LambdaCallback) OnEpochEnd(epoch int, logs Logs) {
	if l.EpochEnd != nil {
		l.EpochEnd(epoch, logs)
	}
}

// OnTrainBatchBegin calls TrainBatchBegin.
func (l *LambdaCallback) OnTrainBatchBegin(batch int) {
	if l.TrainBatchBegin != nil {
		l.TrainBatchBegin(batch)
	}
}

// OnBatchEnd calls BatchEnd.
func (l *LambdaCallback) OnBatchEnd(batch int, logs Logs) {
	if l.BatchEnd != nil {
		l.BatchEnd(batch, logs)
	}
}

// OnTestBegin calls TestBegin.
func (l *LambdaCallback) OnTestBegin(m *Model, p Params) {
	if l.TestBegin != nil {
		l.TestBegin(m, p)
	}
}

// OnTestBatchBegin calls TestBatchBegin.
func (l *LambdaCallback) OnTestBatchBegin(batch int) {
	if l.TestBatchBegin != nil {
		l.TestBatchBegin(batch)
	}
}

// OnTestBatchEnd calls TestBatchEnd.
func (l *LambdaCallback) OnTestBatchEnd(batch int, logs Logs) {
	if l.TestBatchEnd != nil {
		l.TestBatchEnd(batch, logs)
	}
}

// OnTestEnd calls TestEnd.
func (l *LambdaCallback) OnTestEnd(logs Logs) {
	if l.TestEnd != nil {
		l.TestEnd(logs)
	}
}

// OnPredictBegin calls PredictBegin.
func (l *LambdaCallback) OnPredictBegin(m *Model, p Params) {
	if l.PredictBegin != nil {
		l.PredictBegin(m, p)
	}
}

// OnPredictBatchBegin calls PredictBatchBegin.
func (l *LambdaCallback) OnPredictBatchBegin(batch int) {
	if l.PredictBatchBegin != nil {
		l.PredictBatchBegin(batch)
	}
}

// OnPredictBatchEnd calls PredictBatchEnd.
func (l *LambdaCallback) OnPredictBatchEnd(batch int) {
	if l.PredictBatchEnd != nil {
		l.PredictBatchEnd(batch)
	}
}

// OnPredictEnd calls PredictEnd.
func (l *LambdaCallback) OnPredictEnd() {
	if l.PredictEnd != nil {
		l.PredictEnd()
	}
}
