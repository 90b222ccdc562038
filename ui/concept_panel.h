#pragma once
// The installed concept modules, grouped as Fairness (one group per attribute: gender, skin tone)
// and Safety. Each module has an on/off check, RAM and SAM strength sliders (0-150%) and a tooltip
// with its metadata; each fairness group has its policy (random per image, balanced batch, or a
// fixed member) and weight. Modules that do not fit the loaded model are disabled with the reason.
// A view with sliders and combo boxes over ConceptSelectionModel, which holds the state.
#include <QList>
#include <QPointer>
#include <QWidget>
#include <map>
#include <vector>

#include "core/respo/selection.h"
#include "gpu/generation_service.h"
#include "ui/concept_selection_model.h"

class QLabel;
class QTreeView;

namespace respo::ui {

class ConceptPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ConceptPanel(QWidget* parent = nullptr);

  // Keeps the checks and strengths of modules listed before (matched by file).
  void setConcepts(const std::vector<respo::gpu::ConceptInfo>& concepts);
  // The enabled modules (by file and identity, strengths as fractions) and the group options.
  respo::concepts::Selection selection() const { return model_->selection(); }
  std::map<std::string, respo::concepts::GroupOptions> groupOptions() const { return model_->groupOptions(); }
  int conceptCount() const { return model_->conceptCount(); }
  // Sets checks, strengths and group policies as a saved picture records them. A module is matched
  // by identity (name, base model and file hash); a picture without hashes matches by name, the
  // user's folder first. Every other module is switched off. Emits no edit. Returns one note per
  // module or member it could not match, saying why.
  QStringList applySelection(const respo::concepts::Selection& selection);
  // Switches one module on or off by name; false when no usable module has that name.
  bool setConceptEnabled(const QString& name, bool enabled) { return model_->setConceptEnabled(name, enabled); }
  ConceptSelectionModel* model() const { return model_; }
  QTreeView* view() const { return view_; }

 Q_SIGNALS:
  // The user switched a module, moved a strength or changed a group's policy or weight.
  void conceptsEdited();

 private:
  void buildEditors();  // sliders and group controls on the rows, after every reset
  void syncEditors();   // the editors show the model's values (after applySelection)
  void addStrengthSlider(const QModelIndex& index, const QString& name, bool enabled);
  void addGroupControls(const QModelIndex& group);

  QList<QPointer<QWidget>> editors_;  // deleted at once on a refresh (a reset only schedules it)
  ConceptSelectionModel* model_ = nullptr;
  QTreeView* view_ = nullptr;
  QLabel* empty_ = nullptr;
};

}  // namespace respo::ui
