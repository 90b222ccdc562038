#pragma once
// The installed concept modules, grouped as Fairness (one group per attribute: gender, skin tone)
// and Safety. Each module has an on/off check, RAM and SAM strength sliders (0-150%) and a tooltip
// with its metadata; each fairness group has its policy (random per image, balanced batch, or a
// fixed member) and weight. Modules that do not fit the loaded model are disabled with the reason.
#include <QMap>
#include <QWidget>
#include <map>
#include <vector>

#include "core/respo/selection.h"
#include "gpu/generation_service.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSlider;
class QTreeWidget;
class QTreeWidgetItem;

namespace respo::ui {

class ConceptPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ConceptPanel(QWidget* parent = nullptr);

  // Keeps the checks and strengths of modules listed before (matched by file).
  void setConcepts(const std::vector<respo::gpu::ConceptInfo>& concepts);
  // The enabled modules (by file and identity, strengths as fractions) and the group options.
  respo::concepts::Selection selection() const;
  std::map<std::string, respo::concepts::GroupOptions> groupOptions() const;
  int conceptCount() const;
  // Sets checks, strengths and group policies as a saved picture records them. A module is matched
  // by identity (name, base model and file hash); a picture without hashes matches by name, the
  // user's folder first. Every other module is switched off. Emits no edit. Returns one note per
  // module or member it could not match, saying why.
  QStringList applySelection(const respo::concepts::Selection& selection);
  // Switches one module on or off by name; false when no usable module has that name.
  bool setConceptEnabled(const QString& name, bool enabled);

 Q_SIGNALS:
  // The user switched a module, moved a strength or changed a group's policy or weight.
  void conceptsEdited();

 private:
  struct Row {
    QTreeWidgetItem* item = nullptr;
    respo::gpu::ConceptInfo info;
    QSlider* ram = nullptr;
    QSlider* sam = nullptr;
  };
  struct Group {
    QTreeWidgetItem* item = nullptr;
    QComboBox* policy = nullptr;
    QDoubleSpinBox* weight = nullptr;
  };
  QSlider* addStrengthSlider(QTreeWidgetItem* item, int column, const QString& name, int percent, bool enabled);
  void addGroupControls(const QString& group, QTreeWidgetItem* item, const QStringList& members,
                        const QMap<QString, QPair<QString, double>>& previous);

  QTreeWidget* tree_ = nullptr;
  QLabel* empty_ = nullptr;
  std::vector<Row> rows_;
  QMap<QString, Group> groups_;
};

}  // namespace respo::ui
